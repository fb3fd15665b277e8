"""All models, importable as ``from learning.db import models as m``."""

from learning.db.base import Base
from learning.db.models.accounts import RateLimitCounter, Role, UserAccount

__all__ = ["Base", "RateLimitCounter", "Role", "UserAccount"]
