"""``python -m cli`` runs the ``did-vault`` command."""

from cli.main import main

if __name__ == "__main__":
    main()
