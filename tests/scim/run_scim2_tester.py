"""Runs scim2-tester (PyPI) against a SCIM server; prints one JSON object per check.

Usage: python run_scim2_tester.py URL TOKEN core|extension

core: every check, on the User resource type as the server publishes it minus
    the wbxprov Meetings extension, which the harness also strips from answers
    (its typed attributes get random values a Meetings site refuses, which
    would sink the checks that create a user with every attribute filled).
extension: the PATCH add and replace checks, on the User with the extension:
    one check per Meetings attribute.

One adaptation of the tester: its random phone numbers are ten bare digits,
which no identity provider sends and no region reads; the harness makes them
E.164 North American numbers, which the front writes as "country,area,local"
and returns as sent (README, SCIM translations). The Rust test `tests/scim_conformance.rs` starts
`wbxprov scim serve` and judges the output.
"""

import json
import random
import sys

import httpx2
import scim2_tester.checkers.patch_add
import scim2_tester.checkers.patch_replace
import scim2_tester.filling
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_models import ResourceType, Schema, ScimProvider, ServiceProviderConfig
from scim2_tester import check_server

MEETINGS = "urn:ietf:params:scim:schemas:extension:wbxprov:meetings:2.0:User"

_random_value = scim2_tester.filling.generate_random_value


def meetings_phones(context, path, *args, **kwargs):
    value = _random_value(context, path, *args, **kwargs)
    binding = path.resolve()
    model = binding.target_model if binding else None
    is_phone = str(path).endswith("phoneNumbers.value") or (
        binding is not None
        and binding.target_field_name == "value"
        and model is not None
        and "phone" in model.__name__.lower()
    )
    if is_phone and value is not None:
        value = f"+1{random.randint(200, 999)}{random.randint(2000000, 9999999)}"
    return value


for module in (
    scim2_tester.filling,
    scim2_tester.checkers.patch_add,
    scim2_tester.checkers.patch_replace,
):
    module.generate_random_value = meetings_phones


def provider(http, with_extension):
    resource_types = http.get("/ResourceTypes").json()["Resources"]
    schemas = http.get("/Schemas").json()["Resources"]
    config = http.get("/ServiceProviderConfig").json()
    if not with_extension:
        schemas = [s for s in schemas if s["id"] != MEETINGS]
        for rt in resource_types:
            rt["schemaExtensions"] = [
                e for e in rt.get("schemaExtensions", []) if e["schema"] != MEETINGS
            ]
    return ScimProvider.from_discovery(
        [Schema.model_validate(s) for s in schemas],
        [ResourceType.model_validate(r) for r in resource_types],
        ServiceProviderConfig.model_validate(config),
    )


class WithoutMeetings(httpx2.BaseTransport):
    """Removes the Meetings extension from User resources in answers (core mode)."""

    def __init__(self):
        self.inner = httpx2.HTTPTransport()

    def handle_request(self, request):
        response = self.inner.handle_request(request)
        body = response.read()
        try:
            document = json.loads(body)
        except ValueError:
            return response
        for resource in [document, *document.get("Resources", [])] if isinstance(document, dict) else []:
            if isinstance(resource, dict) and resource.pop(MEETINGS, None) is not None:
                resource["schemas"] = [s for s in resource.get("schemas", []) if s != MEETINGS]
        headers = [(k, v) for k, v in response.headers.items() if k.lower() != "content-length"]
        return httpx2.Response(
            response.status_code, headers=headers, content=json.dumps(document).encode()
        )


def main() -> None:
    url, token, mode = sys.argv[1], sys.argv[2], sys.argv[3]
    transport = None if mode == "extension" else WithoutMeetings()
    http = httpx2.Client(
        base_url=url,
        headers={"Authorization": f"Bearer {token}"},
        timeout=60,
        transport=transport,
    )
    client = SyncSCIMClient(http, provider=provider(http, mode == "extension"))
    tags = {"patch:add", "patch:replace"} if mode == "extension" else None
    for result in check_server(client, include_tags=tags):
        data = result.data if isinstance(result.data, dict) else {}
        print(
            json.dumps(
                {
                    "title": result.title,
                    "status": result.status.name,
                    "reason": result.reason,
                    "urn": str(data["urn"]) if data.get("urn") is not None else None,
                    "value": str(data.get("patch_value", data.get("expected"))),
                }
            ),
            flush=True,
        )


if __name__ == "__main__":
    main()
