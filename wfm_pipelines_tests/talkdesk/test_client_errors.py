"""Talkdesk errors are typed by what went wrong, so callers catch a kind instead of testing status codes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from wfm_pipelines_tests.talkdesk.client_support import make_client, set_faults
from wfm_pipelines_tests.reference_day import reference_window

from wfm_pipelines.talkdesk import (
    RetrySettings,
    TalkdeskApiError,
    TalkdeskAuthenticationError,
    TalkdeskAuthError,
    TalkdeskForbiddenError,
    TalkdeskNotFoundError,
    TalkdeskQuotaError,
    TalkdeskRateLimitError,
    TalkdeskUnavailableError,
    TalkdeskValidationError,
)
from wfm_pipelines.talkdesk.errors import QUOTA_EXHAUSTED_CODE, api_error

FEW_RETRIES = RetrySettings(max_attempts=2, backoff_base_s=0.01, backoff_max_s=0.02)


@pytest.mark.parametrize("status, code, kind", [
    (400, "1020001", TalkdeskValidationError),
    (401, "1020018", TalkdeskAuthenticationError),
    (403, "1020004", TalkdeskForbiddenError),
    (404, "1020008", TalkdeskNotFoundError),
    (429, "0012001", TalkdeskRateLimitError),
    (429, QUOTA_EXHAUSTED_CODE, TalkdeskQuotaError),
    (503, "1020019", TalkdeskUnavailableError),
    (None, None, TalkdeskUnavailableError),
    (409, "1020007", TalkdeskApiError),
])
def test_each_answer_is_raised_as_its_kind(status, code, kind):
    error = api_error(status, code, "message", "GET", "https://api.talkdeskapp.com/x?token=secret")
    assert type(error) is kind and isinstance(error, TalkdeskApiError)
    assert "secret" not in str(error)


def test_an_authentication_error_of_an_api_is_an_auth_error_like_a_refused_token():
    assert issubclass(TalkdeskAuthenticationError, TalkdeskAuthError)
    assert issubclass(TalkdeskQuotaError, TalkdeskRateLimitError)


def test_real_answers_of_the_emulator_come_as_their_kind(emulator):
    start, end = reference_window(1, from_hour=10)
    with make_client(emulator.url, retry=FEW_RETRIES) as client:
        with pytest.raises(TalkdeskValidationError, match="1020005"):  # from after to
            client.http.request("POST", "/data/reports/calls/jobs",
                                json={"format": "json", "timespan": {"from": end.isoformat(), "to": start.isoformat()}})
        with pytest.raises(TalkdeskNotFoundError):
            client.http.get_json("/users/no-such-user")
        set_faults(emulator.url, error_rate=1.0, error_status=503)
        with pytest.raises(TalkdeskUnavailableError):
            client.list_users()
        set_faults(emulator.url, error_rate=0.0, rate_limit_every=1)
        with pytest.raises(TalkdeskRateLimitError):
            client.list_users()
    set_faults(emulator.url, rate_limit_every=0)
    with make_client(emulator.url, scopes=("users:read",), retry=FEW_RETRIES) as narrow:
        with pytest.raises(TalkdeskForbiddenError):
            narrow.run_report("calls", start, start + timedelta(minutes=15))
