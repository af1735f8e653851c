"""Manual work: ``/tasks`` lists open tasks (by queue), ``/tasks/{id}`` reads one (open or
not), and people claim, complete (with outputs), fail (with a reason) and reassign them.  A
task claimed by one person can be finished only by that person until it is reassigned (409
otherwise).  ``user`` defaults to the API client's name."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from om_dsl.errors import OrderIssue
from om_dsl.runtime.downstream.tasks import UnknownQueue
from om_dsl.service.context import Svc, Who
from om_dsl.service.errors import ApiError
from om_dsl.service.models import ClaimTask, CompleteTask, FailTask, ReassignTask, Task
from om_dsl.service.operations import TaskRef, task_ref, task_view
from om_dsl.service.routes.common import AUTH_JSON, DECLARED_QUERY, NO_CONTENT, as_sent, errors

router = APIRouter(
    tags=["manual tasks"], dependencies=[*AUTH_JSON, *DECLARED_QUERY], responses=errors(400)
)
TaskResult = dict[str, Any]


@router.get("/tasks", response_model=list[Task], responses=errors())
def list_tasks(
    svc: Svc, queue: Annotated[str | None, Query(max_length=200)] = None
) -> list[TaskResult]:
    """Open tasks; a queue no catalog declares is a 400 (S019) that suggests a close one,
    where it answered "no task" for a misspelt queue."""
    try:
        tasks = svc.runtime.tasks.list(queue)
    except UnknownQueue as exc:
        issue = OrderIssue("S021", "query.queue", str(exc))
        raise ApiError(400, "invalidRequest", issue.message, [issue]) from None
    return [task_view(task) for task in tasks]


@router.get("/tasks/{id}", response_model=Task, responses=errors(404))
def retrieve_task(request: Request, svc: Svc, id: str) -> TaskResult:
    """The task, open or not: a read answers what became of it (``state``), never a 409."""
    ref = _task(request, id)
    return task_view(svc.runtime.tasks.get(ref.order_id, ref.item_id, attempt=ref.attempt))


@router.post("/tasks/{id}/claim", response_model=Task, responses=errors(404, 409))
def claim_task(request: Request, svc: Svc, who: Who, id: str, body: ClaimTask) -> TaskResult:
    ref = _task(request, id)
    user = body.user or who.name
    return task_view(svc.runtime.tasks.claim(ref.order_id, ref.item_id, user, attempt=ref.attempt))


@router.post("/tasks/{id}/complete", **NO_CONTENT, responses=errors(404, 409))
def complete_task(request: Request, svc: Svc, who: Who, id: str, body: CompleteTask) -> None:
    ref = _task(request, id)
    user = body.user or who.name
    svc.runtime.tasks.complete(ref.order_id, ref.item_id, body.outputs, user, attempt=ref.attempt)


@router.post("/tasks/{id}/fail", **NO_CONTENT, responses=errors(404, 409))
def fail_task(request: Request, svc: Svc, who: Who, id: str, body: FailTask) -> None:
    ref = _task(request, id)
    user = body.user or who.name
    svc.runtime.tasks.fail(ref.order_id, ref.item_id, body.reason, user, attempt=ref.attempt)


@router.post("/tasks/{id}/reassign", response_model=Task, responses=errors(404, 409))
def reassign_task(request: Request, svc: Svc, id: str, body: ReassignTask) -> TaskResult:
    ref = _task(request, id)
    tasks = svc.runtime.tasks
    return task_view(
        tasks.reassign(ref.order_id, ref.item_id, body.from_, body.to, attempt=ref.attempt)
    )


def _task(request: Request, id: str) -> TaskRef:
    """The task the path names; a 404 that quotes the id as the client sent it otherwise."""
    return task_ref(id, as_sent(request, "id"))
