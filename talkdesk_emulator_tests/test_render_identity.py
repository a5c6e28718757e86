"""Report files stay byte-identical: the pipelines' tests compare exact counts against what the emulator serves.

Each case renders one report file in process (the body the download host sends, faults included) and compares
the sha256 of its Content-Type and body with a digest frozen from the entry-by-entry renderer (one dict and
one `json.dumps` or csv row per entry) that the column-wise renderer replaced. A changed byte anywhere (an
entry, its order, a field's spelling, an escape, a separator between chunks) fails its case.

`python -m talkdesk_emulator_tests.test_render_identity` prints the digests the code serves now.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from datetime import datetime, timezone
from typing import Any

import numpy as np
import pytest

from talkdesk_emulator.config import EmulatorConfig, default_faults
from talkdesk_emulator.directory import Directory
from talkdesk_emulator.generator import DataGenerator
from talkdesk_emulator.render import EntryRenderer
from talkdesk_emulator.report_faults import report_file_response
from talkdesk_emulator.reports import JobStore, ReportFile
from talkdesk_emulator.text_columns import Column, Vocabulary

# Jobs are created "now" at this instant, so the data delay cuts the windows that reach it.
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=timezone.utc).timestamp()
CONFIGS = {
    "plain": EmulatorConfig(seed=7, queues=5, agents=30, contacts_per_day=3000),
    # Queue names a CSV must quote and JSON must escape: a comma, quotes, non-ASCII text, a path-like name.
    "odd_names": EmulatorConfig(seed=11, queues=6, agents=24, contacts_per_day=2000,
                                queue_names=('Sales, "EMEA"', "Suporte técnico ☎", "..", "a%2Fb\\c")),
}
DAY = ("2026-05-20T00:00:00Z", "2026-05-21T00:00:00Z")
HOURS = ("2026-05-20T09:00:00Z", "2026-05-20T15:00:00Z")
MONTH_CHANGE = ("2026-04-30T18:00:00Z", "2026-05-01T06:00:00Z")
WEEK = ("2026-05-11T00:00:00Z", "2026-05-18T00:00:00Z")  # more entries than one rendering chunk
UP_TO_NOW = ("2026-06-01T08:00:00Z", "2026-06-01T12:00:00Z")  # the data delay cuts the last contacts
CONTACT_TYPES = ("calls", "contacts", "explore_calls")


def _case(config: str, report_type: str, report_format: str, window: tuple[str, str], **faults: Any) -> tuple:
    return config, report_type, report_format, window, tuple(sorted(faults.items()))


CASES = [
    *[_case("plain", t, f, HOURS) for t in (*CONTACT_TYPES, "user_status", "feedback") for f in ("json", "csv")],
    *[_case("odd_names", t, f, DAY) for t in (*CONTACT_TYPES, "user_status") for f in ("json", "csv")],
    *[_case("plain", t, f, WEEK) for t in ("calls", "user_status") for f in ("json", "csv")],
    *[_case("plain", t, "json_bulk", HOURS) for t in ("calls", "user_status")],
    *[_case("plain", "user_status", f, MONTH_CHANGE) for f in ("json", "csv")],
    *[_case("plain", t, "json", UP_TO_NOW) for t in ("calls", "user_status")],
    *[_case("plain", t, f, HOURS, timestamp_format=style)
      for t in ("calls", "contacts", "user_status") for f in ("json", "csv") for style in ("legacy", "offset")],
    *[_case("plain", t, "json", HOURS, report_window_field="start") for t in ("calls", "user_status")],
    *[_case("plain", "calls", f, HOURS, calls_payload="legacy") for f in ("json", "csv")],
    *[_case("plain", t, f, DAY, wait_fields="specific_only") for t in ("calls", "contacts") for f in ("json", "csv")],
    *[_case(c, t, f, DAY, malformed_rate=0.05) for c in CONFIGS for t in (*CONTACT_TYPES, "user_status")
      for f in ("json", "csv")],
    *[_case(c, t, f, DAY, poison_rate=0.05) for c in CONFIGS for t in (*CONTACT_TYPES, "user_status")
      for f in ("json", "csv")],
    # Both at a high rate: entries both malformed and poisoned (a removed start put back at the end).
    *[_case("odd_names", t, f, HOURS, malformed_rate=0.4, poison_rate=0.4, timestamp_format="legacy")
      for t in (*CONTACT_TYPES, "user_status") for f in ("json", "csv")],
    *[_case("plain", t, f, HOURS, report_file_fault=fault) for t in ("calls", "user_status") for f in ("json", "csv")
      for fault in ("html", "xml", "empty_body", "no_entries", "bare_list", "total_mismatch", "empty_report",
                    "csv_no_header", "truncated")],
]


def _case_id(case: tuple) -> str:
    config, report_type, report_format, (start, end), faults = case
    settings = ",".join(f"{key}={value}" for key, value in faults)
    return f"{config}/{report_type}/{report_format}/{start}..{end}" + (f"/{settings}" if settings else "")


class _Account:
    """One emulated account's data and renderer, shared by the cases of its configuration."""

    def __init__(self, config: EmulatorConfig) -> None:
        self.config = config
        directory = Directory(config)
        self.generator = DataGenerator(config, directory)
        self.renderer = EntryRenderer(directory)
        self.jobs = JobStore()


_ACCOUNTS: dict[str, _Account] = {}


def served_digest(case: tuple) -> str:
    """sha256 of the Content-Type and body the download host serves for `case`."""
    config_name, report_type, report_format, (start, end), fault_items = case
    account = _ACCOUNTS.setdefault(config_name, _Account(CONFIGS[config_name]))
    faults = {**default_faults(account.config), **dict(fault_items)}
    file_fault = faults.pop("report_file_fault")
    job = account.jobs.create(report_type, {"format": report_format, "timespan": {"from": start, "to": end}},
                              faults, now=NOW, claim_file_fault=lambda _: file_fault)
    account.jobs.clear()  # keep under the quota of running jobs
    report = ReportFile(job, account.generator, account.renderer)
    response = report_file_response(report, report_format == "csv", job.report_file_fault)
    return hashlib.sha256(response.content_type.encode() + b"\n" + response.get_data()).hexdigest()


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_report_file_is_byte_identical(case: tuple) -> None:
    assert served_digest(case) == FROZEN_DIGESTS[_case_id(case)]


def test_every_case_has_a_frozen_digest() -> None:
    assert sorted(FROZEN_DIGESTS) == sorted(_case_id(case) for case in CASES)


TRICKY_VALUES = [None, True, False, 0, -1, 10**20, 0.1, 1e300, -0.0, 1 / 86400, "", "plain", "a,b", 'say "hi"',
                 "two\nlines", "cr\r", "tab\tend", "NUL\x00", "ção ☎ 😀", "lone \ud83d", "\\ back", "[\"q\", \"r\"]"]


@pytest.mark.parametrize("values", [TRICKY_VALUES, [v for v in TRICKY_VALUES if isinstance(v, str)],
                                    [0, 5, 17, 86400], ["2026-05-20T09:00:00Z", "id-1"]], ids=str)
def test_vocabulary_texts_are_those_of_json_dumps_and_csv_writer(values: list) -> None:
    """Every fast path of text_columns.encode_values spells a value as json.dumps and csv.writer do."""
    vocabulary = Vocabulary(values)
    assert vocabulary.texts("json", "<", ">").tolist() == [f"<{json.dumps(value)}>" for value in values]

    def written(value: Any) -> str:
        buffer = io.StringIO()
        field = "" if value is None else ("true" if value else "false") if isinstance(value, bool) else value
        csv.writer(buffer).writerow([field, ""])  # a second field: a lone empty field would be written '""'
        return buffer.getvalue()[: -len(",\r\n")]

    assert vocabulary.texts("csv", "", "").tolist() == [written(value) for value in values]


def test_number_columns_keep_negative_zero_apart() -> None:
    column = Column.numbers(np.array([0.0, -0.0, 1.5, 0.0]))
    assert column.texts("json").tolist() == ["0.0", "-0.0", "1.5", "0.0"]


# Frozen from the entry-by-entry renderer (main at 0187a36), before the column-wise one replaced it.
FROZEN_DIGESTS: dict[str, str] = {
    'plain/calls/json/2026-05-20T09:00:00Z..2026-05-20T15:00:00Z': '3bfbb8ce666fc0a9a648bc1f7dabd3c82f325c51929e3da6c28f0efdd14f5d4d',
    'plain/calls/csv/2026-05-20T09:00:00Z..2026-05-20T15:00:00Z': 'cd1814b23d901033a2ceea63cecfc2eb3e60120381bdc160693702aefc6d2d15',
    'plain/contacts/json/2026-05-20T09:00:00Z..2026-05-20T15:00:00Z': 'cab322ca32cd06f04c0c12bc0f9e90271edc866a1cb4d40861999117d6fe1a7a',
    'plain/contacts/csv/2026-05-20T09:00:00Z..2026-05-20T15:00:00Z': '9600358c2e9118b621f7b6a9d154db8c1cb2d94eaa43bd887de015915f287986',
    'plain/explore_calls/json/2026-05-20T09:00:00Z..2026-05-20T15:00:00Z': 'd1bbf9431bd2cf220d4315cab9730e371a58a660c51d08b625ef013d6786f75f',
    'plain/explore_calls/csv/2026-05-20T09:00:00Z..2026-05-20T15:00:00Z': '2dfbd8bf2ea432d0fc59c8e8dbb7650bccabbf0751740e065a3256c0b5e4fe8d',
    'plain/user_status/json/2026-05-20T09:00:00Z..2026-05-20T15:00:00Z': '524886bc2a6de332d9bdb051d109c3f1db50329bde157e616d29f0c91a73aca6',
    'plain/user_status/csv/2026-05-20T09:00:00Z..2026-05-20T15:00:00Z': '2c5f06f7ff642c700d4bd99ef0ac94fc51100bec0790c1cf33e5c8ba51c62cec',
    'plain/feedback/json/2026-05-20T09:00:00Z..2026-05-20T15:00:00Z': 'b28b8ff7ba065bc54c6063685abe1168daa945f3ea6568530a9c4b3b451ea677',
    'plain/feedback/csv/2026-05-20T09:00:00Z..2026-05-20T15:00:00Z': '9df12ad5d104de0df8937cf2b9ba56b70b744e2a17002705f119682378caf988',
    'odd_names/calls/json/2026-05-20T00:00:00Z..2026-05-21T00:00:00Z': 'a5e1b430b44ce15e1bd8cb00c6914f0f4723745bcf18fc3434bd0a3418e64c3b',
    'odd_names/calls/csv/2026-05-20T00:00:00Z..2026-05-21T00:00:00Z': 'fee583c7f8bb691eee6316a8e63b2fecaa1ebc5643413c49034e4db67211c973',
    'odd_names/contacts/json/2026-05-20T00:00:00Z..2026-05-21T00:00:00Z': '64ad95a0608703e115cb5af4a7ccaff48115c50378c92f8dfa9e181b433d6e66',
    'odd_names/contacts/csv/2026-05-20T00:00:00Z..2026-05-21T00:00:00Z': 'b2d34256f87defce545fe5896d2b24da221a3b16eba61e09057b28bebf1e3f05',
    'odd_names/explore_calls/json/2026-05-20T00:00:00Z..2026-05-21T00:00:00Z': '560d073f2539a14a06324464ca1291fe3405b5b163da311b48faaf1ca51ac53c',
    'odd_names/explore_calls/csv/2026-05-20T00:00:00Z..2026-05-21T00:00:00Z': 'ea3706c2367e2ab709c343bd65da8fa0daf39f536fafab622c9da29274ba31a4',
    'odd_names/user_status/json/2026-05-20T00:00:00Z..2026-05-21T00:00:00Z': '0d92fcd72b5477acfe06468d80d657830fd46b92d426594df03fa480941ac827',
    'odd_names/user_status/csv/2026-05-20T00:00:00Z..2026-05-21T00:00:00Z': '8380a6477def521b5b9b129b3f082c0fa5cef9befe99299a084fdf69fcb74705',
    'plain/calls/json/2026-05-11T00:00:00Z..2026-05-18T00:00:00Z': '32dde98cb791e395f8ad63f076c0ad6ab3b9f298a808c142ceae1bee8801ea31',
    'plain/calls/csv/2026-05-11T00:00:00Z..2026-05-18T00:00:00Z': '55005f510c644418eb00ebdfb0372bdca17bb673ab7617c40200fc3ab546da83',
    'plain/user_status/json/2026-05-11T00:00:00Z..2026-05-18T00:00:00Z': 'f670e247a236d70e31d36879434716c044bdfde5faf2007378e105384a4d33aa',
    'plain/user_status/csv/2026-05-11T00:00:00Z..2026-05-18T00:00:00Z': 'd30340dd4e342adb4a598a480f09d4eb82af8d0cfb1e4afd81b50e0817fd8de2',
    'plain/calls/json_bulk/2026-05-20T09:00:00Z..2026-05-20T15:00:00Z': '3bfbb8ce666fc0a9a648bc1f7dabd3c82f325c51929e3da6c28f0efdd14f5d4d',
    'plain/user_status/json_bulk/2026-05-20T09:00:00Z..2026-05-20T15:00:00Z': '524886bc2a6de332d9bdb051d109c3f1db50329bde157e616d29f0c91a73aca6',
    'plain/user_status/json/2026-04-30T18:00:00Z..2026-05-01T06:00:00Z': '6250fce096e6253f39e64d8c4911a863050358b93866ed992226b5d50d3f4784',
    'plain/user_status/csv/2026-04-30T18:00:00Z..2026-05-01T06:00:00Z': '592c5c4b1409058ed8142340b5c6137def43c551f8d8f989fc7a51deb08b7e06',
    'plain/calls/json/2026-06-01T08:00:00Z..2026-06-01T12:00:00Z': 'eca13d6e1c2e83696350ff593baf3c24fbbbc2d53da78853da10397937488382',
    'plain/user_status/json/2026-06-01T08:00:00Z..2026-06-01T12:00:00Z': 'e39a9e99c01f3bf16091239cb0bb09ebc191640d9ea50e57145a57efa3f79fb5',
    'plain/calls/json/2026-05-20T09:00:00Z..2026-05-20T15:00:00Z/timestamp_format=legacy': 'd99c6233edec86d9381f4ea06967217f0af0562a4d01925163d1c87a86dc9dfe',
    'plain/calls/json/2026-05-20T09:00:00Z..2026-05-20T15:00:00Z/timestamp_format=offset': '625582ac8b341af16c01455123c595ddf58971027205e44d3288f9dbb021b1a3',
    'plain/calls/csv/2026-05-20T09:00:00Z..2026-05-20T15:00:00Z/timestamp_format=legacy': 'f7f5810dbc8b874c3afa3fd86864dc443cc1956a170631dcf59421a719d593d8',
    'plain/calls/csv/2026-05-20T09:00:00Z..2026-05-20T15:00:00Z/timestamp_format=offset': '8fa2342cfa1fd337969a51f6db3026c85fd434b3370fe3b5574c0f2031733e0f',
    'plain/contacts/json/2026-05-20T09:00:00Z..2026-05-20T15:00:00Z/timestamp_format=legacy': 'ba304841b4c0444210e3ca97c258b1fef2d5990dadcb671d143872246ae9f364',
    'plain/contacts/json/2026-05-20T09:00:00Z..2026-05-20T15:00:00Z/timestamp_format=offset': '5e18169591ddb7af018c170c140139448b9d0ad4b942e60ba2b9ab1ae27f66b2',
    'plain/contacts/csv/2026-05-20T09:00:00Z..2026-05-20T15:00:00Z/timestamp_format=legacy': '5c67a1ee8f4ba2366469f9046c4b90c9aa74291d07498aa69f7f18d5e9f986d2',
    'plain/contacts/csv/2026-05-20T09:00:00Z..2026-05-20T15:00:00Z/timestamp_format=offset': 'ea13809e796fac5d68bc37c0e320d82b3436508fc5c0084cd97252b8d9262544',
    'plain/user_status/json/2026-05-20T09:00:00Z..2026-05-20T15:00:00Z/timestamp_format=legacy': '8cfcc635f73a0439f4ac0eabf0feb2add92a8af2355e994f61f3a4bfbc9cdefc',
    'plain/user_status/json/2026-05-20T09:00:00Z..2026-05-20T15:00:00Z/timestamp_format=offset': '9e3546b0e368070072b16ea81007327b6eccb2ca70d0a8a7363a38083e284284',
    'plain/user_status/csv/2026-05-20T09:00:00Z..2026-05-20T15:00:00Z/timestamp_format=legacy': 'e4d6618b16da3e4f728643af2d9bca293194b228d955cf858aba493ce111a06e',
    'plain/user_status/csv/2026-05-20T09:00:00Z..2026-05-20T15:00:00Z/timestamp_format=offset': '58dc96c46f95ce6b666a0d02fbae6eb6aaa7129db3fdb9992d9ce037ea53d524',
    'plain/calls/json/2026-05-20T09:00:00Z..2026-05-20T15:00:00Z/report_window_field=start': '349ef52e620bb14a0e7458eb30b8f5af4b6afbc8347577c29c168e77a2097f7d',
    'plain/user_status/json/2026-05-20T09:00:00Z..2026-05-20T15:00:00Z/report_window_field=start': '62c25c9b02929b94286f42c0c821e4613df7f6b74b8d0ff922f8031366358af7',
    'plain/calls/json/2026-05-20T09:00:00Z..2026-05-20T15:00:00Z/calls_payload=legacy': '03426261850c775b74e9717ee2da44b767511e46c4d3d3ca4c9a0892ba8a7b01',
    'plain/calls/csv/2026-05-20T09:00:00Z..2026-05-20T15:00:00Z/calls_payload=legacy': '2dfbd8bf2ea432d0fc59c8e8dbb7650bccabbf0751740e065a3256c0b5e4fe8d',
    'plain/calls/json/2026-05-20T00:00:00Z..2026-05-21T00:00:00Z/wait_fields=specific_only': '4e40490de386f89653aa4e8b013962fb976a365159d5b0e37024beed2b7dadf2',
    'plain/calls/csv/2026-05-20T00:00:00Z..2026-05-21T00:00:00Z/wait_fields=specific_only': 'f4b085f532196d285f3635de6a28f9a8f478115cb47c06e5f843fafdc3f5e36f',
    'plain/contacts/json/2026-05-20T00:00:00Z..2026-05-21T00:00:00Z/wait_fields=specific_only': 'd4ea7bd29f7a78c98a193c15411e11c15ffae19f8be3229c1908622833aee994',
    'plain/contacts/csv/2026-05-20T00:00:00Z..2026-05-21T00:00:00Z/wait_fields=specific_only': '693b5067b201b89905b2e3179d5757d2352ca44487dbb420e9f0d3ac17d55e06',
    'plain/calls/json/2026-05-20T00:00:00Z..2026-05-21T00:00:00Z/malformed_rate=0.05': '118f1e2a5b5e185fc654b4706c31fa18a300591a6540c04722f32e46bd483e69',
    'plain/calls/csv/2026-05-20T00:00:00Z..2026-05-21T00:00:00Z/malformed_rate=0.05': '52aafa52ecd17a1d12a61ecf570a7eb10f85c5fd3ce477b5a86d59cd82883a07',
    'plain/contacts/json/2026-05-20T00:00:00Z..2026-05-21T00:00:00Z/malformed_rate=0.05': 'a4870111c65b7c8d11f9d851986a27aba0512cd9020ee4038c02071f9c870ec0',
    'plain/contacts/csv/2026-05-20T00:00:00Z..2026-05-21T00:00:00Z/malformed_rate=0.05': '96085a064794804127c2ecfcd58164aff0437390156fe734c620e78cc0ddecc8',
    'plain/explore_calls/json/2026-05-20T00:00:00Z..2026-05-21T00:00:00Z/malformed_rate=0.05': '8cda728f0cd74d740f0fa0ea3ab8accbdf095d3f40bdd1798fcb8ec74fb8199b',
    'plain/explore_calls/csv/2026-05-20T00:00:00Z..2026-05-21T00:00:00Z/malformed_rate=0.05': '1d2b744b241500267a1d1e42cb2bc0358af430021c560f2125f67360740e2173',
    'plain/user_status/json/2026-05-20T00:00:00Z..2026-05-21T00:00:00Z/malformed_rate=0.05': 'fef2f9664a28ac84ce894c508e56232da8894dd3a2bbc7a2563f4a0df974ffee',
    'plain/user_status/csv/2026-05-20T00:00:00Z..2026-05-21T00:00:00Z/malformed_rate=0.05': '1768545aa03f8774f32f35704af66cc87221ac7a4d300209b8b8190ca2a97134',
    'odd_names/calls/json/2026-05-20T00:00:00Z..2026-05-21T00:00:00Z/malformed_rate=0.05': '0d0460cb3b5eaeb392a7f3071fee4c0265a026b403e117ea40f5318393c0c0f0',
    'odd_names/calls/csv/2026-05-20T00:00:00Z..2026-05-21T00:00:00Z/malformed_rate=0.05': '5323f586d9da546f6b43d4e8454cedc38df5a77a1eb5ed04ba59e20259df7dda',
    'odd_names/contacts/json/2026-05-20T00:00:00Z..2026-05-21T00:00:00Z/malformed_rate=0.05': 'f62dfda007098957092d45f2ecd93be4db6a1dc7b489626a8e5669c6161776eb',
    'odd_names/contacts/csv/2026-05-20T00:00:00Z..2026-05-21T00:00:00Z/malformed_rate=0.05': 'bc38906138c33631e280ae46b0cb1d00537019d389fc9a3c5f42426b3c2de3af',
    'odd_names/explore_calls/json/2026-05-20T00:00:00Z..2026-05-21T00:00:00Z/malformed_rate=0.05': '8366d0faacac3849d5e8c8c3842a328430e101c64f628e2a0256678a8b02e546',
    'odd_names/explore_calls/csv/2026-05-20T00:00:00Z..2026-05-21T00:00:00Z/malformed_rate=0.05': '9d6252441cd9640735673c3037fa7bea25fc348cacd1a501af420b12b89c0ad2',
    'odd_names/user_status/json/2026-05-20T00:00:00Z..2026-05-21T00:00:00Z/malformed_rate=0.05': '45506c465e0991c2fe513f0773f3edeba5ce0bd747c27e10e7ab6115e19af017',
    'odd_names/user_status/csv/2026-05-20T00:00:00Z..2026-05-21T00:00:00Z/malformed_rate=0.05': '9a2a5a4b37e8529c0568831761f641b689c339f91817fb7b95ae710ce2880604',
    'plain/calls/json/2026-05-20T00:00:00Z..2026-05-21T00:00:00Z/poison_rate=0.05': '0c17377d53497b13b1d76b32c4d34def1427bed2541a3e37964a91350c21d3d0',
    'plain/calls/csv/2026-05-20T00:00:00Z..2026-05-21T00:00:00Z/poison_rate=0.05': 'a0f6776787f53fddbc112076713d06fd23cb9dc3fdf946087deafcffedf82606',
    'plain/contacts/json/2026-05-20T00:00:00Z..2026-05-21T00:00:00Z/poison_rate=0.05': '0396848a2fe06938b980197c4b81b7c46c37f9d74272eb2c44d3269ed9b5e84b',
    'plain/contacts/csv/2026-05-20T00:00:00Z..2026-05-21T00:00:00Z/poison_rate=0.05': '11c9578eb16a13b988604b7c322c1cfd0864823b8fa17d25de232819c6db387d',
    'plain/explore_calls/json/2026-05-20T00:00:00Z..2026-05-21T00:00:00Z/poison_rate=0.05': 'ed846cb0184a9cb89a06011951a0546009a246c71d5082b7a9c695af924d9f17',
    'plain/explore_calls/csv/2026-05-20T00:00:00Z..2026-05-21T00:00:00Z/poison_rate=0.05': '855cd780a468b626108d18b5b5dcd8d96232264fee0aed4f7f85f60988fc184d',
    'plain/user_status/json/2026-05-20T00:00:00Z..2026-05-21T00:00:00Z/poison_rate=0.05': 'dbc8e3aa071b067b01ee94efc4ec404e3352200d88168b65f12dc9cbead99e55',
    'plain/user_status/csv/2026-05-20T00:00:00Z..2026-05-21T00:00:00Z/poison_rate=0.05': '6e68c58db391cd9dcb08a85515fd35365d539f98301a06cfdcdd3ed11f30c176',
    'odd_names/calls/json/2026-05-20T00:00:00Z..2026-05-21T00:00:00Z/poison_rate=0.05': '24352f2715c9c662cd2c52679bbff8681fbab758fa7bebdb5e53fb9fb4c0a754',
    'odd_names/calls/csv/2026-05-20T00:00:00Z..2026-05-21T00:00:00Z/poison_rate=0.05': '1bc6ccc2cf2d399e2389be1c57cdb610d07819e40f72c92eaa08b3f705f5d2ac',
    'odd_names/contacts/json/2026-05-20T00:00:00Z..2026-05-21T00:00:00Z/poison_rate=0.05': '5404ff6f8161b855bf3998d819137abc5073bc021ec75f060958f64816e9e663',
    'odd_names/contacts/csv/2026-05-20T00:00:00Z..2026-05-21T00:00:00Z/poison_rate=0.05': 'b167789b055c9f71b0a34bdf258c67f7c631e9025317318c603cacbce094af01',
    'odd_names/explore_calls/json/2026-05-20T00:00:00Z..2026-05-21T00:00:00Z/poison_rate=0.05': '05f1b959355ce483ed193444551d60830569be650cfc7bdfa44d4eb722b056d7',
    'odd_names/explore_calls/csv/2026-05-20T00:00:00Z..2026-05-21T00:00:00Z/poison_rate=0.05': '72daae1cec6a509f895524a0dfea74c1e993d8b22a9c4d2b9ff80801910f8814',
    'odd_names/user_status/json/2026-05-20T00:00:00Z..2026-05-21T00:00:00Z/poison_rate=0.05': 'a98bd7f34df143e3dd14dce2c786b835660e1e5cd13be34ac8f42ee11721004a',
    'odd_names/user_status/csv/2026-05-20T00:00:00Z..2026-05-21T00:00:00Z/poison_rate=0.05': 'ee6ba7c47b1e4d3047adb17767f91915b647df970acfc3a09e5e66824c05e81d',
    'odd_names/calls/json/2026-05-20T09:00:00Z..2026-05-20T15:00:00Z/malformed_rate=0.4,poison_rate=0.4,timestamp_format=legacy': '55ae29ad303cba679ffba356c64febf23cccce29cbf550285dc6f84c7a33991f',
    'odd_names/calls/csv/2026-05-20T09:00:00Z..2026-05-20T15:00:00Z/malformed_rate=0.4,poison_rate=0.4,timestamp_format=legacy': '67992a6221307f09f54ee168af22cb9b121eb4b52197100c3c9c380616df56f7',
    'odd_names/contacts/json/2026-05-20T09:00:00Z..2026-05-20T15:00:00Z/malformed_rate=0.4,poison_rate=0.4,timestamp_format=legacy': 'c241a336548446640d5a9f2a3ccc8c9983b9b35f3c2541fc52691e6c8a2451eb',
    'odd_names/contacts/csv/2026-05-20T09:00:00Z..2026-05-20T15:00:00Z/malformed_rate=0.4,poison_rate=0.4,timestamp_format=legacy': '57580f673392b8d8b88e3095752f7404488ded48d5355b6a7288d22e63a1bc73',
    'odd_names/explore_calls/json/2026-05-20T09:00:00Z..2026-05-20T15:00:00Z/malformed_rate=0.4,poison_rate=0.4,timestamp_format=legacy': 'a4f5b06516603e0e2421b873ae4af121dfba639dec930928ee2d281188a072af',
    'odd_names/explore_calls/csv/2026-05-20T09:00:00Z..2026-05-20T15:00:00Z/malformed_rate=0.4,poison_rate=0.4,timestamp_format=legacy': '1bdb1dcae7ad06a718febd080664ace02615b2e0e4426f29a658e14d44833cee',
    'odd_names/user_status/json/2026-05-20T09:00:00Z..2026-05-20T15:00:00Z/malformed_rate=0.4,poison_rate=0.4,timestamp_format=legacy': '3948f160332c69c4931126233e4c6ced4f3b909590cf0c64997ef734cae1d643',
    'odd_names/user_status/csv/2026-05-20T09:00:00Z..2026-05-20T15:00:00Z/malformed_rate=0.4,poison_rate=0.4,timestamp_format=legacy': '6946eb1763ea039eaf3fb1e066066974e07be3710ee800071d0673b5d9fd96ae',
    'plain/calls/json/2026-05-20T09:00:00Z..2026-05-20T15:00:00Z/report_file_fault=html': '9885d936c504f2cdbd7d58b31ce276c5128fe2010d57225ff2d887f7238b070d',
    'plain/calls/json/2026-05-20T09:00:00Z..2026-05-20T15:00:00Z/report_file_fault=xml': 'e92b67235b091eb6401a4ca97a107c003299ec81183a7e77f5dad1192c8c93d1',
    'plain/calls/json/2026-05-20T09:00:00Z..2026-05-20T15:00:00Z/report_file_fault=empty_body': '98585c69d6ccb286ad7279daaf8d74f1b52eee129585596490f44ba73a12cfed',
    'plain/calls/json/2026-05-20T09:00:00Z..2026-05-20T15:00:00Z/report_file_fault=no_entries': 'cc95fcf6ef6036e8064f9cf9030abb5d12b70888ed37f50ac4680a1cb75aa9f4',
    'plain/calls/json/2026-05-20T09:00:00Z..2026-05-20T15:00:00Z/report_file_fault=bare_list': 'afb5d81f5ff89892056daa19072164b3279130eb47ceb2bd06529e38b4e8d7c7',
    'plain/calls/json/2026-05-20T09:00:00Z..2026-05-20T15:00:00Z/report_file_fault=total_mismatch': '611e45256f2f712d1977a10fc765b6094234143054635d2c1d3fe002e8ad5cce',
    'plain/calls/json/2026-05-20T09:00:00Z..2026-05-20T15:00:00Z/report_file_fault=empty_report': '0a01f6e5747e1f04a18fe6c5308d1fe0f9e1aaa5e863d4b36e5c176afce409d6',
    'plain/calls/json/2026-05-20T09:00:00Z..2026-05-20T15:00:00Z/report_file_fault=csv_no_header': '3bfbb8ce666fc0a9a648bc1f7dabd3c82f325c51929e3da6c28f0efdd14f5d4d',
    'plain/calls/json/2026-05-20T09:00:00Z..2026-05-20T15:00:00Z/report_file_fault=truncated': '2da13a3c3edd3cbbda999310fc0df5e4110e58269b787bbce02d2281d9f9d69a',
    'plain/calls/csv/2026-05-20T09:00:00Z..2026-05-20T15:00:00Z/report_file_fault=html': '9885d936c504f2cdbd7d58b31ce276c5128fe2010d57225ff2d887f7238b070d',
    'plain/calls/csv/2026-05-20T09:00:00Z..2026-05-20T15:00:00Z/report_file_fault=xml': 'e92b67235b091eb6401a4ca97a107c003299ec81183a7e77f5dad1192c8c93d1',
    'plain/calls/csv/2026-05-20T09:00:00Z..2026-05-20T15:00:00Z/report_file_fault=empty_body': '9df12ad5d104de0df8937cf2b9ba56b70b744e2a17002705f119682378caf988',
    'plain/calls/csv/2026-05-20T09:00:00Z..2026-05-20T15:00:00Z/report_file_fault=no_entries': 'cd1814b23d901033a2ceea63cecfc2eb3e60120381bdc160693702aefc6d2d15',
    'plain/calls/csv/2026-05-20T09:00:00Z..2026-05-20T15:00:00Z/report_file_fault=bare_list': 'cd1814b23d901033a2ceea63cecfc2eb3e60120381bdc160693702aefc6d2d15',
    'plain/calls/csv/2026-05-20T09:00:00Z..2026-05-20T15:00:00Z/report_file_fault=total_mismatch': 'cd1814b23d901033a2ceea63cecfc2eb3e60120381bdc160693702aefc6d2d15',
    'plain/calls/csv/2026-05-20T09:00:00Z..2026-05-20T15:00:00Z/report_file_fault=empty_report': '180e22f905ad54068193f0226169563ca79b9d324e72b42d21645ad6117f740e',
    'plain/calls/csv/2026-05-20T09:00:00Z..2026-05-20T15:00:00Z/report_file_fault=csv_no_header': '9b847ff26252d77df0d7f9b84d7bf506af1667f72392769e9a8c891cac2aad65',
    'plain/calls/csv/2026-05-20T09:00:00Z..2026-05-20T15:00:00Z/report_file_fault=truncated': '7cf5bf20b6d020620ed4570d876e4b66bc065c551f091a0a69b3fee2621ce797',
    'plain/user_status/json/2026-05-20T09:00:00Z..2026-05-20T15:00:00Z/report_file_fault=html': '9885d936c504f2cdbd7d58b31ce276c5128fe2010d57225ff2d887f7238b070d',
    'plain/user_status/json/2026-05-20T09:00:00Z..2026-05-20T15:00:00Z/report_file_fault=xml': 'e92b67235b091eb6401a4ca97a107c003299ec81183a7e77f5dad1192c8c93d1',
    'plain/user_status/json/2026-05-20T09:00:00Z..2026-05-20T15:00:00Z/report_file_fault=empty_body': '98585c69d6ccb286ad7279daaf8d74f1b52eee129585596490f44ba73a12cfed',
    'plain/user_status/json/2026-05-20T09:00:00Z..2026-05-20T15:00:00Z/report_file_fault=no_entries': '9fc6d5bb25cf69382a11c2b16d9ea4e2054975da3e14e561ab0d97464042f037',
    'plain/user_status/json/2026-05-20T09:00:00Z..2026-05-20T15:00:00Z/report_file_fault=bare_list': '67e3ca422c6c7a583dda7a2b85c675f3a1582a215963971dd49acc34964dde1a',
    'plain/user_status/json/2026-05-20T09:00:00Z..2026-05-20T15:00:00Z/report_file_fault=total_mismatch': '2752f9de18bc32f5670d7df8eccda76569e894d3297305a4388c5b095c000030',
    'plain/user_status/json/2026-05-20T09:00:00Z..2026-05-20T15:00:00Z/report_file_fault=empty_report': 'a8fd091ceaf369eabed334ba7cc3e5e278c8b9a57869affc6fe3388d446a4a81',
    'plain/user_status/json/2026-05-20T09:00:00Z..2026-05-20T15:00:00Z/report_file_fault=csv_no_header': '524886bc2a6de332d9bdb051d109c3f1db50329bde157e616d29f0c91a73aca6',
    'plain/user_status/json/2026-05-20T09:00:00Z..2026-05-20T15:00:00Z/report_file_fault=truncated': 'e20cd89ecf7bf45bd13b646c7994d1935201a4bd0f1547e2204e01f55e31a20a',
    'plain/user_status/csv/2026-05-20T09:00:00Z..2026-05-20T15:00:00Z/report_file_fault=html': '9885d936c504f2cdbd7d58b31ce276c5128fe2010d57225ff2d887f7238b070d',
    'plain/user_status/csv/2026-05-20T09:00:00Z..2026-05-20T15:00:00Z/report_file_fault=xml': 'e92b67235b091eb6401a4ca97a107c003299ec81183a7e77f5dad1192c8c93d1',
    'plain/user_status/csv/2026-05-20T09:00:00Z..2026-05-20T15:00:00Z/report_file_fault=empty_body': '9df12ad5d104de0df8937cf2b9ba56b70b744e2a17002705f119682378caf988',
    'plain/user_status/csv/2026-05-20T09:00:00Z..2026-05-20T15:00:00Z/report_file_fault=no_entries': '2c5f06f7ff642c700d4bd99ef0ac94fc51100bec0790c1cf33e5c8ba51c62cec',
    'plain/user_status/csv/2026-05-20T09:00:00Z..2026-05-20T15:00:00Z/report_file_fault=bare_list': '2c5f06f7ff642c700d4bd99ef0ac94fc51100bec0790c1cf33e5c8ba51c62cec',
    'plain/user_status/csv/2026-05-20T09:00:00Z..2026-05-20T15:00:00Z/report_file_fault=total_mismatch': '2c5f06f7ff642c700d4bd99ef0ac94fc51100bec0790c1cf33e5c8ba51c62cec',
    'plain/user_status/csv/2026-05-20T09:00:00Z..2026-05-20T15:00:00Z/report_file_fault=empty_report': '0e4450a6d100d831124018823f2c402a1946c7362802c8b2f1a04d65dda17c82',
    'plain/user_status/csv/2026-05-20T09:00:00Z..2026-05-20T15:00:00Z/report_file_fault=csv_no_header': '8ac19dcd4d8ca8df19df7efa0067a34d4749fcbbe70659132e500beecc8f1026',
    'plain/user_status/csv/2026-05-20T09:00:00Z..2026-05-20T15:00:00Z/report_file_fault=truncated': '35f0ad9a6620eb7a9c72699af6e818a8e80de8a7d3c707229c971193a7ec2520',
}


if __name__ == "__main__":
    for served_case in CASES:
        print(f"    {_case_id(served_case)!r}: {served_digest(served_case)!r},")
