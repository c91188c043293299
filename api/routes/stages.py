"""The attribute application table and what hangs off it: /v1/stages, completeness, stage views,
lifecycle transitions and the jobs that recompute completeness."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated

from litestar import Controller, Response, get, post, put
from litestar.params import FromPath, JSONBody, Parameter, QueryParameter

from api.auth import allow
from api.http import Actor, Conn, CursorQ, IfMatch, LimitQ, entity, expected
from domain.jobs import service as jobs
from domain.jobs.model import Job, JobPage, JobState
from domain.products.model import Product
from domain.stages import completeness, lifecycle, service, views
from domain.stages.model import Completeness, NeedsBody, StageList, StageNeeds, TransitionBody, Worklist
from domain.stages.views import StageView
from domain.types import STAGES

READERS = allow("purchasing", "warehouse", "listing", "marketing", "service", "finance")


class StageController(Controller):
    path = "/v1/stages"
    tags = ["Stages and completeness"]

    @get("", operation_id="listStages", summary="List the stages and the built-in items", opt=READERS)
    async def list_stages(self, conn: Conn) -> StageList:
        """The six stages of a product's flow (purchasing → warehousing → listing → marketing → service →
        finance), with how many items each reads and requires, and the built-in items a stage can need."""
        return await service.list_stages(conn)

    @get("/{stage:str}/needs", operation_id="getStageNeeds", summary="What a stage reads and requires", opt=READERS)
    async def get_needs(self, conn: Conn, stage: FromPath[str]) -> StageNeeds:
        """The stage's row of the attribute application table: the items it reads, in order, and which it
        cannot work without. Category attribute sets add attributes required for a stage on top."""
        return await service.get_needs(conn, stage)

    @put(
        "/{stage:str}/needs",
        operation_id="putStageNeeds",
        summary="Change what a stage reads and requires",
        opt=allow(),
    )
    async def put_needs(
        self, conn: Conn, principal: Actor, stage: FromPath[str], data: JSONBody[NeedsBody]
    ) -> StageNeeds:
        """Replace the stage's needs. When what it requires changes, completeness is recomputed for every
        product by a background job: `recompute.href` shows its progress."""
        return await service.put_needs(conn, principal, stage, data)


@get(
    "/v1/products/{code:str}/completeness",
    operation_id="getProductCompleteness",
    summary="A product's completeness per stage",
    opt=READERS,
    tags=["Stages and completeness"],
)
async def get_product_completeness(conn: Conn, code: FromPath[str]) -> Completeness:
    """For every stage: required and present counts, the ratio, and exactly what is missing (with the SKU
    for per-SKU items). `recomputing` is set while a recompute job has not reached this product yet."""
    return await completeness.get_completeness(conn, code)


@get(
    "/v1/products/{code:str}/views/{stage:str}",
    operation_id="getStageView",
    summary="What one stage reads of a product",
    opt=READERS,
    tags=["Stages and completeness"],
)
async def get_stage_view(
    conn: Conn,
    principal: Actor,
    code: FromPath[str],
    stage: FromPath[str],
    since: Annotated[
        date | None,
        QueryParameter(
            name="from",
            required=False,
            description="First day of the window items (inclusive; default: the 28 days up to `to`).",
        ),
    ] = None,
    until: Annotated[
        date | None,
        QueryParameter(
            name="to", required=False, description="Last day of the window items (inclusive; default today, UTC)."
        ),
    ] = None,
) -> StageView:
    """Exactly the items the stage reads, with their values — data that does not exist yet is null and,
    when required, listed as missing. A role reads its own stage's view (admin reads all); cost,
    distribution prices and supplier terms are shown only to finance, purchasing and admin. The window
    items — `category_share` and `returns` over the days `from`..`to` (default: the last 28 days, today
    included, UTC), `promotion_outcomes` of the promotions started by `to` — show units, shares, rates,
    ROI and margin percent, never amounts. `from` after `to` is a 400."""
    return await views.stage_view(conn, principal, code, stage, since=since, until=until)


@post(
    "/v1/products/{code:str}/transitions",
    operation_id="transitionProduct",
    summary="Move a product along its lifecycle",
    opt=allow("purchasing", "warehouse", "listing", "marketing"),
    tags=["Stages and completeness"],
    status_code=200,
)
async def transition_product(
    conn: Conn, principal: Actor, code: FromPath[str], data: JSONBody[TransitionBody], if_match: IfMatch = None
) -> Response[Product]:
    """`draft → sourced → stocked → listed → delisted → retired`, and back from `delisted` to `listed`.
    Entering `sourced` needs purchasing complete, `stocked` warehousing complete and stock received,
    `listed` listing complete and a sale price on every SKU: a gate not met is a 409 listing what is
    missing per stage. Purchasing moves to sourced, warehouse to stocked, listing to listed."""
    product = await lifecycle.transition(conn, principal, code, data, expected(if_match))
    return entity(product, version=product.version)


Stage = Annotated[
    str | None,
    QueryParameter(name="stage", required=False, description="Only this stage.", schema_extra={"enum": list(STAGES)}),
]
Category = Annotated[
    str | None, QueryParameter(name="category", required=False, description="Only products under this category.")
]
Role = Annotated[str | None, QueryParameter(name="role", required=False, description="Only products of this role.")]
Below = Annotated[
    Decimal,
    QueryParameter(
        name="below",
        required=False,
        description="Products whose ratio in `stage` is below this, in (0, 1] (default 1: every incomplete one).",
        schema_extra={"type": "number", "exclusiveMinimum": 0, "maximum": 1},
    ),
]


@get(
    "/v1/completeness",
    operation_id="listIncompleteProducts",
    summary="The completeness worklist",
    opt=READERS,
    tags=["Stages and completeness"],
)
async def list_incomplete(
    conn: Conn,
    stage: Stage = None,
    category: Category = None,
    role: Role = None,
    below: Below = Decimal(1),
    limit: LimitQ = 50,
    cursor: CursorQ = None,
) -> Worklist:
    """The products a team starts its day from: those incomplete in `stage` (or in any stage), under a
    category, of a role, below a ratio — with counts per stage and per category below the filter."""
    return await completeness.worklist(
        conn, stage=stage, category=category, role=role, below=below, limit=limit, cursor=cursor
    )


class JobController(Controller):
    path = "/v1/jobs"
    tags = ["Jobs"]

    @get("", operation_id="listJobs", summary="List background jobs", opt=READERS)
    async def list_jobs(
        self,
        conn: Conn,
        job_state: Annotated[
            JobState | None, QueryParameter(name="state", required=False, description="Only the jobs in this state.")
        ] = None,
        limit: LimitQ = 50,
        cursor: CursorQ = None,
    ) -> JobPage:
        """Jobs newest first, with their progress."""
        return await jobs.list_jobs(conn, state=job_state, limit=limit, cursor=cursor)

    @get("/{job_id:int}", operation_id="getJob", summary="A background job's progress", opt=READERS)
    async def get_job(
        self,
        conn: Conn,
        job_id: Annotated[
            int, Parameter(ge=1, le=2**63 - 1, schema_extra={"maximum": 2**63 - 1}, description="A job's id.")
        ],
    ) -> Job:
        """`done` of `total` products, `progress` in [0, 1], and the state."""
        return await jobs.get_job(conn, job_id)
