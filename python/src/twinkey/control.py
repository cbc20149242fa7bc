"""The OCI Generative AI API-key control plane and the zero-downtime rotation runner.

Both run in Rust (``twinkey-client``) on one I/O runtime of the native module; Python only
calls them. Every name here is also available from :mod:`twinkey` itself.

**Control plane.** ``ControlPlane(signer, endpoint=None, region=None)`` calls the eight
API-key operations, signed with a :class:`twinkey.Signer` (OCI's "Signature version 1") and
retried like the OCI SDKs (throttling, server errors, timeouts; ``retries=False`` for one
attempt):

- ``create(compartment_id, display_name, key_names=..., time_expiry=...)``,
  ``get(id)``, ``update(id, display_name=..., ...)``, ``set_state(id, key_name, state)``,
  ``renew(id, key_name, time_expiry=...)`` return a :class:`KeyResponse`: the key as a
  :class:`twinkey.ApiKey` plus ``etag``, ``opc_request_id``, ``status`` and ``attempts``;
- ``delete(id)``, ``change_compartment(id, compartment_id)`` return a :class:`UnitResponse`;
- ``list(compartment_id, limit=..., page=...)`` returns one :class:`ListPage` (``items``,
  ``next_page``), ``list_all(compartment_id, ...)`` iterates over every page.

Blocking methods release the GIL while they wait (Ctrl-C cancels them).
``AsyncControlPlane`` has the same methods, each returning an awaitable, and an ``async for``
``list_all``. Changes accept ``if_match=<etag>``; the POSTs accept ``retry_token=...``.

The values of new secrets (``create``; ``renew``) are in the answer's key only, shown by the
service this once: ``response.key["key-two"].expose()``, or the whole key to an
:class:`twinkey.Engine`, or ``response.key.to_json_exposing_secrets()`` into a key file.
``repr``, ``str``, exceptions and logs show names and fingerprints only. Service errors raise
:class:`twinkey.ServiceError` with ``status``, ``oci_code`` and ``request_id``.

**Rotation.** ``rotate(control_plane, key_id, ...)`` (``await rotate_async(...)``) runs SPEC
section 5 as ``twinkey rotate`` does: make the standby usable, verify it with a real inference
request (``key_file`` holds its value, ``inference_url`` the OpenAI-compatible base URL), switch
to it (``engine``: this process's engine switches at once), deactivate or ``revoke`` the old
secret, optionally ``renew_old`` it as the next standby (renewed values go to ``secret_out``,
mode 0600). Every step is checkpointed in ``state_file``, so running the same call again
resumes an interrupted rotation; ``dry_run=True`` returns the :class:`RotationPlan`. Progress
goes to ``on_progress`` (a :class:`RotationProgress` each) and to the ``twinkey`` logger. A
rotation that would be unsafe raises :class:`twinkey.RotationError` (``ROTATION_REFUSED``)
before anything is retired.
"""

from __future__ import annotations

from ._native import (
    AsyncControlPlane,
    AsyncPageIterator,
    ControlPlane,
    KeyResponse,
    ListPage,
    PageIterator,
    RotationPlan,
    RotationProgress,
    RotationReport,
    UnitResponse,
    rotate,
    rotate_async,
)

__all__ = [
    "AsyncControlPlane",
    "AsyncPageIterator",
    "ControlPlane",
    "KeyResponse",
    "ListPage",
    "PageIterator",
    "RotationPlan",
    "RotationProgress",
    "RotationReport",
    "UnitResponse",
    "rotate",
    "rotate_async",
]
