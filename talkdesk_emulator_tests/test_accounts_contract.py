"""The contract tests, run unchanged against an account served under `/accounts/north` of a multi-account
emulator: the prefix must not bend a status, an envelope, a link or a schema."""

from __future__ import annotations

import pytest

from talkdesk_emulator_tests import test_contract as contract
from talkdesk_emulator_tests import test_faults as faults
from talkdesk_emulator_tests import test_reports as reports
from talkdesk_emulator_tests.conftest import TalkdeskSession

CONTRACT_CHECKS = [
    contract.test_token_success_and_errors,
    contract.test_users_listing_paging_filters_and_errors,  # every HAL link starts with the account's URL
    contract.test_user_by_id_and_account,
    contract.test_ring_groups_and_members,
    contract.test_ccaas_queues_and_members,
    contract.test_users_status,
    contract.test_unknown_route_answers_json_404,
    reports.test_download_rejects_authorization_and_bad_signatures,
    reports.test_csv_is_the_default_format_and_matches_json,
    reports.test_unknown_report_type_and_undocumented_types,
    reports.test_quota_of_15_simultaneous_reports,
    reports.test_jobs_listing_pages,
    reports.test_delete_file,
    faults.test_operator_endpoints,
    faults.test_error_rate_is_a_deterministic_sequence,
    faults.test_token_expiry_override,
]


@pytest.fixture
def north(two_accounts, prefixed_openapi):
    session = TalkdeskSession(two_accounts.account("north"), prefixed_openapi)
    yield session
    session.http.close()


@pytest.mark.parametrize("check", CONTRACT_CHECKS, ids=lambda check: check.__name__.removeprefix("test_"))
def test_contract_holds_under_the_account_prefix(check, north):
    assert north.url.endswith("/accounts/north")
    check(north)


def test_the_prefixed_spec_does_not_match_paths_outside_the_prefix(two_accounts, prefixed_openapi):
    """The validation above is real: a response from the root path is not found in the prefixed spec."""
    import requests
    from openapi_core.contrib.requests import RequestsOpenAPIRequest, RequestsOpenAPIResponse

    response = requests.get(f"{two_accounts.url}/users")
    with pytest.raises(Exception, match="(?i)path|server"):
        prefixed_openapi.validate_response(RequestsOpenAPIRequest(response.request), RequestsOpenAPIResponse(response))
