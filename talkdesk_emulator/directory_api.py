"""Handlers of the account, Users, Ring Groups and Queues (ccaas) APIs."""

from __future__ import annotations

import json
import math
import time
from typing import Any

from werkzeug.wrappers import Request, Response

from talkdesk_emulator.directory import ACCOUNT_CREATED_AT, Agent, Directory, Queue, stable_hex
from talkdesk_emulator.faults import FaultState
from talkdesk_emulator.generator import DataGenerator
from talkdesk_emulator.httputil import (ApiError, base_url, bool_param, int_param, json_response, page_href,
                                             path_segment)
from talkdesk_emulator.statuses import CCAAS_STATUS

USER_STATUS_LIMIT = 20
FEW_LISTED = 2
# Appended to the names of the account's first two users by the poison_user_names fault (JSON-escaped on the wire).
POISONED_USER_NAME_SUFFIXES = ("\x00", "\ud800")


def talkdesk_datetime(value) -> str:
    """Talkdesk's documented rendering of creation dates: `2018-06-28 14:05:00+00:00`."""
    return str(value.replace(microsecond=0))


class DirectoryApi:
    def __init__(self, directory: Directory, generator: DataGenerator, account_timezone: str,
                 faults: FaultState) -> None:
        self.directory = directory
        self.generator = generator
        self.account_timezone = account_timezone
        self.faults = faults

    def _listed(self, items: list) -> list:
        """What GET /users, /ring-groups and /ccaas/queues list under the directory_listing fault: everything,
        nothing, or only the first few; a client must not take a thin listing for people and queues removed."""
        listing = self.faults.snapshot()["directory_listing"]
        if listing == "empty":
            return []
        return items[:FEW_LISTED] if listing == "few" else items

    # -- account -----------------------------------------------------------------------------------
    def account(self, request: Request) -> Response:
        return json_response({
            "id": stable_hex(self.directory.seed, "account", length=24), "name": "wfm-emulator",
            "company_name": "WFM Emulator", "timezone": self.account_timezone,
            "created_at": talkdesk_datetime(ACCOUNT_CREATED_AT),
            "_links": {"self": {"href": f"{base_url(request)}/account"}},
        })

    # -- users -------------------------------------------------------------------------------------
    def _user_body(self, request: Request, agent: Agent, poison_names: bool) -> dict[str, Any]:
        name = agent.name
        if poison_names and agent.index < len(POISONED_USER_NAME_SUFFIXES):
            name += POISONED_USER_NAME_SUFFIXES[agent.index]
        return {"id": agent.id, "email": agent.email, "name": name, "active": agent.active,
                "gender": agent.gender, "extension": agent.extension,
                "external_phone_number": agent.external_phone_number, "created_at": talkdesk_datetime(agent.created_at),
                "_links": {"self": {"href": f"{base_url(request)}/users/{agent.id}"}}}

    def users(self, request: Request) -> Response:
        page, per_page = int_param(request, "page", 1), int_param(request, "per_page", 20)
        active = bool_param(request, "active")
        if page is None or per_page is None or page < 1:
            raise ApiError(400, "0040001", "Bad request", "Invalid pagination parameters.")
        if active == "invalid":
            raise ApiError(400, "0040001", "Bad request", "Invalid query parameter types")
        if not 1 <= per_page <= 200:
            raise ApiError(400, "0040021", "Pagination out of bounds")
        email = request.args.get("email")
        agents = [a for a in self._listed(self.directory.agents)
                  if (active is None or a.active == active) and (email is None or a.email == email)]
        total_pages = max(1, math.ceil(len(agents) / per_page))
        chunk = agents[(page - 1) * per_page: page * per_page]
        filters = {"active": request.args.get("active"), "email": email}
        base = base_url(request)
        links: dict[str, Any] = {
            "self": {"href": page_href(request, "/users", page, per_page, filters)},
            "first": {"href": page_href(request, "/users", 1, per_page, filters)},
            "last": {"href": page_href(request, "/users", total_pages, per_page, filters)},
            "show": {"templated": True, "href": f"{base}/users/{{id}}"},
            "index": {"templated": True, "href": f"{base}/users{{?active,email,page,per_page}}"},
        }
        if page < total_pages:
            links["next"] = {"href": page_href(request, "/users", page + 1, per_page, filters)}
        poison_names = self.faults.snapshot()["poison_user_names"]
        return json_response({
            "count": len(chunk), "total": len(agents), "page": page, "per_page": per_page, "total_pages": total_pages,
            "_embedded": {"users": [self._user_body(request, a, poison_names) for a in chunk]}, "_links": links,
        })

    def user(self, request: Request, user_id: str) -> Response:
        agent = self.directory.agent_by_id.get(user_id)
        if agent is None:
            raise ApiError(404, "0040000", "User not found")
        return json_response(self._user_body(request, agent, self.faults.snapshot()["poison_user_names"]))

    # -- ring groups -------------------------------------------------------------------------------
    @staticmethod
    def _ring_group_paging(request: Request) -> tuple[int, int]:
        page, per_page = int_param(request, "page", 1), int_param(request, "per_page", 50)
        if page is None or per_page is None or page < 1 or per_page < 1:
            # Talkdesk documents no code for bad paging here; the envelope is the API's own.
            raise ApiError(400, "0300000", "Invalid pagination parameters.")
        return page, per_page

    @staticmethod
    def _ring_group_links(request: Request, path: str, page: int, per_page: int, total: int,
                          extra: dict[str, Any]) -> dict[str, Any]:
        links: dict[str, Any] = {"self": {"href": page_href(request, path, page, per_page, extra)}}
        if page * per_page < total:
            links["next"] = {"href": page_href(request, path, page + 1, per_page, extra)}
        if page > 1:
            links["previous"] = {"href": page_href(request, path, page - 1, per_page, extra)}
        links["page"] = {"templated": True,
                         "href": page_href(request, path, 0, per_page, extra).replace("page=0", "page={page}")}
        return links

    def ring_groups(self, request: Request) -> Response:
        page, per_page = self._ring_group_paging(request)
        name_filter = request.args.get("name")
        order_by = request.args.get("order_by")
        queues = [q for q in self._listed(self.directory.queues)
                  if not name_filter or name_filter.lower() in q.name.lower()]
        if order_by is not None:
            field, _, direction = order_by.partition(":")
            if field != "name" or direction not in ("", "asc", "desc"):
                raise ApiError(400, "0300011", "Invalid order_by parameter.")
            queues = sorted(queues, key=lambda q: q.name, reverse=direction == "desc")
        chunk = queues[(page - 1) * per_page: page * per_page]
        extra = {"name": name_filter, "order_by": order_by}
        return json_response({
            "total": len(queues), "page": page, "per_page": per_page, "count": len(chunk),
            "_embedded": {"ring_groups": [{"name": q.name, "short_abandoned_threshold": q.short_abandoned_threshold,
                                           "wait_time_threshold": q.wait_time_threshold} for q in chunk]},
            "_links": self._ring_group_links(request, "/ring-groups", page, per_page, len(queues), extra),
        })

    def ring_group_users(self, request: Request, name: str) -> Response:
        queue = self.directory.queue_by_name.get(name)
        if queue is None:
            raise ApiError(404, "0300007", "Ring Group not found.")
        page, per_page = self._ring_group_paging(request)
        active = bool_param(request, "active")
        if active == "invalid":
            raise ApiError(400, "0300000", "Invalid query parameter types.")
        members = [a for a in self.directory.queue_members(queue.index) if active is None or a.active == active]
        chunk = members[(page - 1) * per_page: page * per_page]
        path = f"/ring-groups/{path_segment(name)}/users"
        return json_response({
            "total": len(members), "page": page, "per_page": per_page, "count": len(chunk), "ring_group": name,
            "_embedded": {"users": [{"id": a.id, "_links": {"self": {"href": f"{base_url(request)}/users/{a.id}"}}}
                                    for a in chunk]},
            "_links": self._ring_group_links(request, path, page, per_page, len(members),
                                             {"active": request.args.get("active")}),
        })

    # -- queues (ccaas) ----------------------------------------------------------------------------
    @staticmethod
    def _queue_paging(request: Request) -> tuple[int, int]:
        page, per_page = int_param(request, "page", 1), int_param(request, "per_page", 20)
        if page is None or per_page is None or page < 1 or not 1 <= per_page <= 100:
            raise ApiError(400, "0490002", "Malformed request")
        return page, per_page

    @staticmethod
    def _queue_links(request: Request, path: str, page: int, per_page: int, total: int,
                     extra: dict[str, Any]) -> dict[str, Any]:
        links: dict[str, Any] = {"self": {"href": page_href(request, path, page, per_page, extra)}}
        if page > 1:
            links["prev"] = {"href": page_href(request, path, page - 1, per_page, extra)}
        if page * per_page < total:
            links["next"] = {"href": page_href(request, path, page + 1, per_page, extra)}
        return links

    def _queue_body(self, queue: Queue) -> dict[str, Any]:
        return {"id": queue.id, "name": queue.name, "description": queue.description,
                "created_at": talkdesk_datetime(queue.created_at), "updated_at": talkdesk_datetime(queue.created_at),
                "settings": {"voice": {"transfers": {"maximum_waiting_time": 600, "offer_time": 30}}}}

    def queues(self, request: Request) -> Response:
        page, per_page = self._queue_paging(request)
        queue_id, name_filter = request.args.get("id"), request.args.get("name")
        order_by = request.args.get("order_by", "updated_at")
        field, _, direction = order_by.partition(":")
        if field not in ("name", "created_at", "updated_at") or direction not in ("", "asc", "desc"):
            raise ApiError(400, "0490002", "Malformed request")
        queues = [q for q in self._listed(self.directory.queues)
                  if (queue_id is None or q.id == queue_id)
                  and (not name_filter or name_filter.lower() in q.name.lower())]
        sort_key = (lambda q: q.name) if field == "name" else (lambda q: (q.created_at, q.name))
        queues = sorted(queues, key=sort_key, reverse=direction == "desc")
        chunk = queues[(page - 1) * per_page: page * per_page]
        extra = {"id": queue_id, "name": name_filter, "order_by": request.args.get("order_by")}
        return json_response({
            "total": len(queues), "count": len(chunk), "page": page, "per_page": per_page,
            "_embedded": {"queues": [self._queue_body(q) for q in chunk]},
            "_links": self._queue_links(request, "/ccaas/queues", page, per_page, len(queues), extra),
        })

    def queue_users(self, request: Request, queue_id: str) -> Response:
        queue = self.directory.queue_by_id.get(queue_id)
        if queue is None:
            raise ApiError(404, "0490004", "Queue not found")
        page, per_page = self._queue_paging(request)
        members = self.directory.queue_members(queue.index)
        chunk = members[(page - 1) * per_page: page * per_page]
        base = base_url(request)
        return json_response({
            "total": len(members), "count": len(chunk), "page": page, "per_page": per_page,
            "_embedded": {"users": [{"id": a.id, "name": a.name, "email": a.email,
                                     "_links": {"self": {"href": f"{base}/users/{a.id}"}}} for a in chunk]},
            "_links": self._queue_links(request, f"/ccaas/queues/{queue_id}/users", page, per_page, len(members), {}),
        })

    def users_status(self, request: Request) -> Response:
        try:
            body = json.loads(request.get_data(as_text=True) or "null")
        except ValueError:
            body = None
        user_ids = body.get("user_ids") if isinstance(body, dict) else None
        if not isinstance(user_ids, list) or not all(isinstance(u, str) for u in user_ids):
            raise ApiError(400, "1580002", "Bad request", "user_ids must be an array of user ids.")
        if len(user_ids) > USER_STATUS_LIMIT:
            raise ApiError(400, "1580008", "The number of requested agents status exceeds the limit of 20",
                           "The number of requested user status exceeds the limit of 20.")
        known = [self.directory.agent_by_id[u] for u in user_ids if u in self.directory.agent_by_id]
        labels = self.generator.current_labels([a.index for a in known], int(time.time()))
        return json_response([{"id": a.id, "status": CCAAS_STATUS[label]} for a, label in zip(known, labels)])
