"""W3C Verifiable Credentials 2.0 with Data Integrity proofs: model, issue, verify."""

from did_vault.credentials.issuer import (
    create_presentation,
    issue_credential,
    sign_presentation,
)
from did_vault.credentials.model import (
    CREDENTIALS_V2_CONTEXT,
    CredentialStatusEntry,
    Evidence,
    Issuer,
    RelatedResource,
    VerifiableCredential,
    VerifiablePresentation,
)
from did_vault.credentials.proofs import (
    DATA_INTEGRITY_PROOF,
    CachingResolver,
    DIDDocumentResolver,
    ProofPurpose,
    VerifiedProof,
    add_proof,
    create_proof,
    verify_proof,
    verify_proofs,
)
from did_vault.credentials.suites import (
    CRYPTOSUITES,
    ECDSA_JCS_2019,
    ECDSA_RDFC_2019,
    EDDSA_JCS_2022,
    EDDSA_RDFC_2022,
    Cryptosuite,
    get_cryptosuite,
)
from did_vault.credentials.verifier import (
    Check,
    CredentialVerification,
    PresentationVerification,
    StatusChecker,
    verify_credential,
    verify_presentation,
)

__all__ = [
    "CREDENTIALS_V2_CONTEXT",
    "CRYPTOSUITES",
    "DATA_INTEGRITY_PROOF",
    "ECDSA_JCS_2019",
    "ECDSA_RDFC_2019",
    "EDDSA_JCS_2022",
    "EDDSA_RDFC_2022",
    "CachingResolver",
    "Check",
    "CredentialStatusEntry",
    "CredentialVerification",
    "Cryptosuite",
    "DIDDocumentResolver",
    "Evidence",
    "Issuer",
    "PresentationVerification",
    "ProofPurpose",
    "RelatedResource",
    "StatusChecker",
    "VerifiableCredential",
    "VerifiablePresentation",
    "VerifiedProof",
    "add_proof",
    "create_presentation",
    "create_proof",
    "get_cryptosuite",
    "issue_credential",
    "sign_presentation",
    "verify_credential",
    "verify_presentation",
    "verify_proof",
    "verify_proofs",
]
