"""Fidelity check: the official OCI Python SDK against twinkey's emulator control plane.

Drives `oci.generative_ai.GenerativeAiClient` (real SDK: its signer, its retry strategy, its
models) with the OCI config that `twinkey emulate --init DIR` wrote, against the emulator as
`service_endpoint`: create, get, list (with pagination), update, set state, renew, change
compartment and delete must succeed and round-trip, the values shown by create/renew must work
on the emulator's inference endpoint (after propagation), and errors must come back as
`oci.exceptions.ServiceError` with OCI's status and code.

    python oci_genai_client.py --config DIR/oci/config --endpoint http://127.0.0.1:PORT

Prints one line per check and a summary; exits non-zero on the first failure.
"""

import argparse
import datetime
import json
import sys
import time
import urllib.error
import urllib.request

import oci
from oci.generative_ai import GenerativeAiClient
from oci.generative_ai import models as m

checks = 0


def check(cond, what):
    global checks
    if not cond:
        print(f"FAIL  {what}", flush=True)
        sys.exit(1)
    checks += 1
    print(f"ok    {what}", flush=True)


def infer(endpoint, secret, timeout_s=20.0):
    """Status of one chat completion with a bearer secret, retried while it propagates."""
    deadline = time.monotonic() + timeout_s
    body = json.dumps(
        {"model": "openai.gpt-oss-120b", "messages": [{"role": "user", "content": "hi"}]}
    ).encode()
    while True:
        req = urllib.request.Request(
            endpoint + "/openai/v1/chat/completions",
            data=body,
            headers={"Authorization": f"Bearer {secret}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                status = r.status
        except urllib.error.HTTPError as e:
            status = e.code
        if status == 200 or time.monotonic() > deadline:
            return status
        time.sleep(0.1)


def infer_refused(endpoint, secret, timeout_s=20.0):
    """Whether inference refuses a secret (401) within the propagation time."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if infer(endpoint, secret, timeout_s=0) == 401:
            return True
        time.sleep(0.1)
    return False


def service_error(fn, status, code):
    try:
        fn()
    except oci.exceptions.ServiceError as e:
        return e.status == status and e.code == code
    return False


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", required=True)
    ap.add_argument("--profile", default="DEFAULT")
    ap.add_argument("--endpoint", required=True)
    ap.add_argument(
        "--expect-states",
        nargs="+",
        metavar="ARG",
        help="only check a key: KEY_OCID NAME=STATE... (e.g. after `twinkey rotate`)",
    )
    args = ap.parse_args()

    config = oci.config.from_file(args.config, args.profile)
    oci.config.validate_config(config)
    client = GenerativeAiClient(config, service_endpoint=args.endpoint)
    if args.expect_states:
        key_id, *pairs = args.expect_states
        states = {k.key_name: k.state for k in client.get_api_key(key_id).data.keys}
        for pair in pairs:
            name, want = pair.split("=", 1)
            check(states.get(name) == want, f"the SDK reads {name} {want} ({key_id[:40]}...)")
        print(f"fidelity: {checks} checks passed with oci {oci.__version__}", flush=True)
        return
    tenancy = config["tenancy"]
    other = "ocid1.compartment.oc1..aaaaaaaafidelityother"
    expiry = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=30)

    # create: both values, once
    details = m.CreateApiKeyDetails(
        display_name="fidelity-key",
        compartment_id=tenancy,
        description="made by the oci SDK",
        key_details=[
            m.KeyDetails(key_name="key-one", time_expiry=expiry),
            m.KeyDetails(key_name="key-two", time_expiry=expiry + datetime.timedelta(days=30)),
        ],
        freeform_tags={"suite": "fidelity"},
    )
    created = client.create_api_key(details)
    key = created.data
    check(created.status == 200 and isinstance(key, m.ApiKey), "create_api_key -> 200 ApiKey")
    check(key.id.startswith("ocid1.generativeaiapikey.oc1."), f"id is an API-key OCID ({key.id[:40]}...)")
    check(key.display_name == "fidelity-key" and key.compartment_id == tenancy, "create round-trips displayName and compartmentId")
    check(key.lifecycle_state == "ACTIVE", "lifecycle_state ACTIVE")
    check(key.freeform_tags == {"suite": "fidelity"} and key.description == "made by the oci SDK", "create round-trips tags and description")
    check([k.key_name for k in key.keys] == ["key-one", "key-two"], "two secrets, in order")
    check(all(isinstance(k, m.ApiKeyItem) and k.key and k.key_mask for k in key.keys), "create shows both values and masks")
    check(all(k.key_mask.endswith(k.key[-4:]) for k in key.keys), "masks end like the values")
    check(abs((key.keys[0].time_expiry - expiry).total_seconds()) < 1, "timeExpiry round-trips as a datetime")
    check(all(k.state == "ACTIVE" for k in key.keys), "both secrets ACTIVE")
    check(bool(created.headers.get("etag")) and bool(created.request_id), "etag and opc-request-id")
    one, two = key.keys[0].key, key.keys[1].key
    check(infer(args.endpoint, one) == 200 and infer(args.endpoint, two) == 200, "both created values work on inference")

    # get: masked
    got = client.get_api_key(key.id)
    check(got.status == 200 and got.data.id == key.id, "get_api_key round-trips the id")
    check(all(k.key is None and k.key_mask for k in got.data.keys), "get shows masks, never values")
    check(got.headers.get("etag") == created.headers.get("etag"), "etag unchanged by get")

    # list: by compartment, pages, filters
    for i in range(3):
        client.create_api_key(
            m.CreateApiKeyDetails(
                display_name=f"fidelity-extra-{i}",
                compartment_id=tenancy,
                key_details=[m.KeyDetails(key_name="a", time_expiry=expiry), m.KeyDetails(key_name="b", time_expiry=expiry)],
            )
        )
    listed = client.list_api_keys(compartment_id=tenancy)
    check(listed.status == 200 and isinstance(listed.data, m.ApiKeyCollection), "list_api_keys -> ApiKeyCollection")
    ids = [s.id for s in listed.data.items]
    check(key.id in ids, "the key is listed in its compartment")
    check(all(isinstance(s, m.ApiKeySummary) for s in listed.data.items), "items are ApiKeySummary")
    check(all(k.key is None for s in listed.data.items for k in s.keys), "list shows no values")
    page1 = client.list_api_keys(compartment_id=tenancy, limit=2, sort_by="displayName", sort_order="ASC")
    check(len(page1.data.items) == 2 and page1.has_next_page and page1.next_page, "limit=2 gives a page and opc-next-page")
    everything = oci.pagination.list_call_get_all_results(
        client.list_api_keys, compartment_id=tenancy, limit=2, sort_by="displayName", sort_order="ASC"
    ).data
    names = [s.display_name for s in everything]
    check(names == sorted(names) and len(names) == len(ids), f"SDK pagination walks all pages in order ({len(names)} keys)")
    by_name = client.list_api_keys(compartment_id=tenancy, display_name="fidelity-key").data.items
    check([s.id for s in by_name] == [key.id], "displayName filter")
    by_id = client.list_api_keys(compartment_id=tenancy, id=key.id, lifecycle_state="ACTIVE").data.items
    check([s.id for s in by_id] == [key.id], "id and lifecycleState filters")
    check(client.list_api_keys(compartment_id=other).data.items == [], "another compartment lists nothing")

    # update with if-match
    etag = got.headers["etag"]
    upd = client.update_api_key(key.id, m.UpdateApiKeyDetails(display_name="fidelity-renamed"), if_match=etag)
    check(upd.status == 200 and upd.data.display_name == "fidelity-renamed", "update_api_key with if-match")
    check(upd.headers.get("etag") != etag, "update changes the etag")
    check(
        service_error(lambda: client.update_api_key(key.id, m.UpdateApiKeyDetails(description="x"), if_match=etag), 412, "NoEtagMatch"),
        "a stale if-match is 412 NoEtagMatch",
    )

    # set state
    st = client.set_api_key_state(key.id, m.SetApiKeyStateDetails(key_name="key-two", state="INACTIVE"))
    check(st.status == 200 and st.data.keys[1].state == "INACTIVE", "set_api_key_state INACTIVE")
    check(all(k.key is None for k in st.data.keys), "set state shows no values")
    check(infer_refused(args.endpoint, two), "the deactivated value is refused on inference")
    st = client.set_api_key_state(key.id, m.SetApiKeyStateDetails(key_name="key-two", state="ACTIVE"), if_match=st.headers["etag"])
    check(st.data.keys[1].state == "ACTIVE", "set_api_key_state ACTIVE with if-match")
    check(infer(args.endpoint, two) == 200, "the reactivated value works again")
    st = client.set_api_key_state(key.id, m.SetApiKeyStateDetails(key_name="key-one", state="REVOKED"))
    check(st.data.keys[0].state == "REVOKED", "set_api_key_state REVOKED")
    check(
        service_error(lambda: client.set_api_key_state(key.id, m.SetApiKeyStateDetails(key_name="key-one", state="ACTIVE")), 409, "Conflict"),
        "activating a revoked secret is 409 Conflict",
    )

    # renew: the renewed value, once
    new_expiry = expiry + datetime.timedelta(days=60)
    rn = client.renew_api_key(key.id, m.RenewApiKeyDetails(details=m.KeyDetails(key_name="key-one", time_expiry=new_expiry)))
    check(rn.status == 200 and rn.data.keys[0].key and rn.data.keys[0].key != one, "renew_api_key shows a new value")
    check(rn.data.keys[1].key is None, "renew shows only the renewed value")
    check(rn.data.keys[0].state == "ACTIVE" and abs((rn.data.keys[0].time_expiry - new_expiry).total_seconds()) < 1, "renewed: ACTIVE with the new expiry")
    check(infer(args.endpoint, rn.data.keys[0].key) == 200, "the renewed value works on inference")
    check(infer_refused(args.endpoint, one), "the old value is refused")

    # change compartment
    cc = client.change_api_key_compartment(key.id, m.ChangeApiKeyCompartmentDetails(compartment_id=other))
    check(cc.status in (200, 204), "change_api_key_compartment")
    check(key.id in [s.id for s in client.list_api_keys(compartment_id=other).data.items], "the key is listed in the new compartment")
    check(key.id not in [s.id for s in client.list_api_keys(compartment_id=tenancy).data.items], "and not in the old one")

    # delete
    dl = client.delete_api_key(key.id)
    check(dl.status in (200, 204), "delete_api_key")
    after = client.get_api_key(key.id).data
    check(after.lifecycle_state == "DELETED", "a deleted key reads back DELETED")
    check(key.id not in [s.id for s in client.list_api_keys(compartment_id=other).data.items], "a deleted key is not listed")
    check(infer_refused(args.endpoint, two), "a deleted key's values are refused")
    check(service_error(lambda: client.delete_api_key(key.id), 404, "NotAuthorizedOrNotFound"), "deleting twice is 404")
    check(service_error(lambda: client.get_api_key("ocid1.generativeaiapikey.oc1.us-chicago-1.nope"), 404, "NotAuthorizedOrNotFound"), "unknown key is 404 NotAuthorizedOrNotFound")
    check(
        service_error(
            lambda: client.create_api_key(m.CreateApiKeyDetails(display_name="x", compartment_id=tenancy, key_details=[m.KeyDetails(key_name="only")])),
            400,
            "InvalidParameter",
        ),
        "one secret is 400 InvalidParameter",
    )

    # A signature the emulator cannot verify is refused like OCI does.
    bad = dict(config)
    bad["fingerprint"] = "00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00"
    stranger = GenerativeAiClient(bad, service_endpoint=args.endpoint, retry_strategy=oci.retry.NoneRetryStrategy())
    check(service_error(lambda: stranger.list_api_keys(compartment_id=tenancy), 401, "NotAuthenticated"), "an unknown keyId is 401 NotAuthenticated")

    print(f"fidelity: {checks} checks passed with oci {oci.__version__}", flush=True)


if __name__ == "__main__":
    main()
