"""One APIRouter per resource; ``registry.main`` mounts them."""
