"""The OCI Generative AI API-key control plane and the rotation runner (not available yet).

This module is where the control-plane client (the eight API-key operations, signed with a
:class:`twinkey.Signer`) and the documented zero-downtime rotation runner (SPEC section 5) will
live, sync and async, once their Rust implementation lands in ``twinkey-client``. They will be
thin wrappers like the rest of the package:

- ``ControlPlane(signer, region=...)`` / ``AsyncControlPlane``: ``get``, ``list``, ``create``,
  ``update``, ``delete``, ``set_state``, ``renew``, ... returning :class:`twinkey.ApiKey`, with
  service errors raised as :class:`twinkey.ServiceError`;
- ``rotate(control_plane, key_id, ...)`` / ``async_rotate``: the checkpointed runner, progress
  reported as events.

Nothing here is public API yet.
"""

from __future__ import annotations

__all__: list[str] = []
