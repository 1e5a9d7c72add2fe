"""The operational plan per resource: jobs in sequence, moved up or down, to another resource,
put on hold. Viewing needs execution.view_job, acting execution.change_job; every change goes
through job_plan_move / job_plan_change, whose refusals are shown as messages. htmx swaps the
table in place; without it, a plain POST and a redirect back to the list."""

from urllib.parse import urlsplit

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from mesproject.actors import Actor
from mesproject.errors import ApplicationError

from ...choices import JobStatus
from ...models import Job
from ...services.jobs import PLAN_DOWN, PLAN_UP, job_plan_change, job_plan_move
from .forms import JobMoveForm, PlanFilter
from .lists import next_url, paginate
from .selectors import plan_jobs, plan_resources

VIEW_JOB, CHANGE_JOB = "execution.view_job", "execution.change_job"


def _plan_context(request, params: QueryDict) -> dict:
    filters = PlanFilter(params)
    filters.is_valid()
    data = getattr(filters, "cleaned_data", {})
    site, resource = data.get("site"), data.get("resource")
    context = {
        "filters": filters,
        "resource": resource,
        "can_act": request.user.has_perm(CHANGE_JOB),
        "COMPLETED": JobStatus.COMPLETED,
        "STARTED": JobStatus.STARTED,
        "UP": PLAN_UP,
        "DOWN": PLAN_DOWN,
    }
    if resource is None:
        context["resources"] = paginate(params, plan_resources(site=site))
        return context
    jobs = plan_jobs(resource=resource, include_completed=bool(data.get("include_completed")))
    context["page"] = paginate(params, jobs)
    # Where a job may move: the other active resources of its site (one list for the page).
    context["move_targets"] = list(
        JobMoveForm(job=Job(resource=resource)).fields["resource"].queryset
    )
    return context


@login_required
@require_GET
@permission_required(VIEW_JOB, raise_exception=True)
def plan(request):
    return render(request, "supervisor/plan.html", _plan_context(request, request.GET))


def _plan_answer(request):
    """htmx: the plan table again (with the messages) for the list the user is on; else
    back to that list."""
    target = next_url(request, reverse("supervisor:plan"))
    if request.htmx:
        params = QueryDict(urlsplit(target).query)
        context = _plan_context(request, params) | {"fragment": True, "next": target}
        return render(request, "supervisor/_plan_jobs.html", context)
    return redirect(target)


def _plan_act(request, pk: int, change) -> None:
    job = get_object_or_404(Job.objects.select_related("order", "resource"), pk=pk)
    try:
        text = change(job, Actor(user=request.user))
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        if text:
            messages.success(request, text)


@login_required
@require_POST
@permission_required(CHANGE_JOB, raise_exception=True)
def job_move(request, pk: int):
    """One place up or down in the resource's plan."""
    direction = request.POST.get("direction", "")

    def move(job, actor):
        job_plan_move(job=job, direction=direction, actor=actor)
        return f"Job {job} moved {'up' if direction == PLAN_UP else 'down'}."

    _plan_act(request, pk, move)
    return _plan_answer(request)


@login_required
@require_POST
@permission_required(CHANGE_JOB, raise_exception=True)
def job_hold(request, pk: int):
    """Put on hold (hold=1) or release the hold (hold=0)."""
    hold = request.POST.get("hold") == "1"

    def change(job, actor):
        job_plan_change(job=job, on_hold=hold, actor=actor)
        return f"Job {job} {'put on hold' if hold else 'released from hold'}."

    _plan_act(request, pk, change)
    return _plan_answer(request)


@login_required
@require_POST
@permission_required(CHANGE_JOB, raise_exception=True)
def job_move_resource(request, pk: int):
    """To the end of another resource's plan (same site)."""

    def change(job, actor):
        form = JobMoveForm(request.POST, job=job)
        if not form.is_valid():
            messages.error(request, " ".join(form.errors["resource"]))
            return ""
        target = form.cleaned_data["resource"]
        job_plan_change(job=job, resource=target, actor=actor)
        return f"Job {job} moved to {target.code}: it is last in that resource's plan."

    _plan_act(request, pk, change)
    return _plan_answer(request)
