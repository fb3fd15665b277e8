"""Dependency providers of the attestations domain."""

from __future__ import annotations

from litestar.datastructures import State
from litestar.di import NamedDependency
from sqlalchemy.ext.asyncio import AsyncSession

from learning.attestations.keys import InstanceKey
from learning.attestations.repositories import AttestationRepository
from learning.attestations.services import AttestationService
from learning.catalog.deps import provide_catalog_service
from learning.progress.deps import provide_progress_service


def provide_attestation_service(db_session: NamedDependency[AsyncSession], state: State) -> AttestationService:
    return AttestationService(
        AttestationRepository(db_session), provide_progress_service(db_session, state),
        provide_catalog_service(db_session, state), state.credential_key, state.settings.base_url,
    )  # fmt: skip


def provide_instance_key(state: State) -> InstanceKey:
    key: InstanceKey = state.credential_key
    return key
