"""One APIRouter per resource; ``registry.main`` mounts them."""

API_PREFIX = "/v1"
