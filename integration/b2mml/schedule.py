"""The ERP's B2MML schedule in: an OperationsSchedule (V0700) or a ProductionSchedule (V0401),
parsed into work order inputs. No HTTP here.

Parsing is lenient, as real ERP messages are: elements are matched on their local names
whatever the namespace or prefix, and whatever the import does not use is ignored, even where
the schema requires it. Only what a work order needs must be there: the request's ID, its
produced material and that material's quantity.
"""

from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from xml.etree import ElementTree as ET

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from integration.b2mml import MAX_BYTES
from integration.erp.services.work_orders import WorkOrderInput
from inventory.fields import QUANTITY_DIGITS, QUANTITY_PLACES, QUANTUM
from inventory.identifiers import MAX_LENGTH, IdentifierInvalid, identifier_problem
from mesproject.errors import ApplicationError
from orders.models import ProductionOrder

WO_ID_MAX_LENGTH = ProductionOrder._meta.get_field("number").max_length
DEFAULT_PRIORITY = 5

REQUEST_TAGS = {"OperationsRequest", "ProductionRequest"}  # V0700, V0401
REVISION_PROPERTY_TAGS = {"MaterialRequirementProperty", "MaterialProducedRequirementProperty"}
REVISION_PARAMETER_TAGS = {"SegmentParameter", "Parameter"}


def schedule_parse(xml: bytes) -> list[WorkOrderInput]:
    """The work orders a schedule asks for, one per request, in document order.

    revision is empty where the document names none: the part's current revision applies.
    Raises ApplicationError(code="b2mml_invalid") naming the request and what is missing.
    """
    root = _document(xml)
    requests = [element for element in root.iter() if _local(element) in REQUEST_TAGS]
    if not requests:
        raise _invalid(
            "The document holds no OperationsRequest (V0700) or ProductionRequest (V0401).",
            document=_local(root),
        )
    return [_request(request, index) for index, request in enumerate(requests, start=1)]


def _invalid(message: str, **fields) -> ApplicationError:
    return ApplicationError(message, code="b2mml_invalid", fields=fields)


def _document(xml: bytes) -> ET.Element:
    if len(xml) > MAX_BYTES:
        raise _invalid(f"The document is larger than {MAX_BYTES // 2**20} MB.", size=len(xml))
    try:
        # No DTD at all (entity expansion, external entities): B2MML never needs one.
        return fromstring(xml, forbid_dtd=True)
    except DefusedXmlException:
        raise _invalid("DTDs and entity declarations are not accepted.") from None
    except ET.ParseError as error:
        raise _invalid(f"The body is not well-formed XML: {error}.", xml=str(error)) from None


def _local(element: ET.Element) -> str:
    """The tag without its namespace: senders disagree on namespaces and prefixes."""
    return element.tag.rpartition("}")[2]


def _child(element: ET.Element, *names: str) -> ET.Element | None:
    return next((child for child in element if _local(child) in names), None)


def _text(element: ET.Element, *path: str) -> str:
    """The stripped text at a path of child names; empty when any step is missing."""
    for name in path:
        element = _child(element, name)
        if element is None:
            return ""
    return (element.text or "").strip()


def _descendant_texts(element: ET.Element, name: str) -> list[str]:
    texts = (
        (descendant.text or "").strip()
        for descendant in element.iter()
        if _local(descendant) == name
    )
    return [text for text in texts if text]


class _Request:
    """Names a request in messages: by position, and by its ID when it has one."""

    def __init__(self, element: ET.Element, index: int):
        self.element = element
        self.index = index
        self.id = _text(element, "ID")

    def __str__(self) -> str:
        return f"Request {self.index}" + (f" ({self.id})" if self.id else "")

    def invalid(self, problem: str, **fields) -> ApplicationError:
        return _invalid(
            f"{self}: {problem}.", request_id=self.id, request_index=self.index, **fields
        )


def _request(element: ET.Element, index: int) -> WorkOrderInput:
    request = _Request(element, index)
    produced = _produced(request)
    part_number, quantity = "", ""
    if produced is not None:
        part_number = _text(produced, "MaterialDefinitionID")
        quantity = _text(produced, "Quantity", "QuantityString")
    # V0401: the product production rule names the product when the requirement does not.
    part_number = part_number or _text(element, "ProductProductionRuleID")
    required = {"ID": request.id, "produced material": part_number, "quantity": quantity}
    missing = [name for name, value in required.items() if not value]
    if missing:
        raise request.invalid(f"missing {', '.join(missing)}", missing=missing)
    if len(request.id) > WO_ID_MAX_LENGTH:
        raise request.invalid(f"the ID is longer than {WO_ID_MAX_LENGTH} characters")
    revision = _revision(element, produced)
    identifiers = {"wo_id": request.id, "part_number": part_number, "revision": revision}
    for name, value in identifiers.items():
        if value and (problem := identifier_problem(value, max_length=MAX_LENGTH[name])):
            raise IdentifierInvalid(
                f"{request}: {name} {problem}.",
                fields={name: [problem], "request_id": request.id, "request_index": index},
            )
    return WorkOrderInput(
        wo_id=request.id,
        part_number=part_number,
        revision=revision,
        qty_target=_quantity(request, quantity),
        scheduled_start=_start(request),
        priority=_priority(request),
        site_code=_site(element),
    )


def _is_produced(element: ET.Element) -> bool:
    name = _local(element)
    if name == "MaterialProducedRequirement":  # V0401
        return True
    return name == "MaterialRequirement" and _text(element, "MaterialUse").casefold() == "produced"


def _produced(request: _Request) -> ET.Element | None:
    """The requirement for the material the request produces, in any of its segments.

    Segments may repeat the produced material; two different ones leave the order's part
    in doubt, so the request is refused rather than guessed.
    """
    produced = [element for element in request.element.iter() if _is_produced(element)]
    parts = sorted({_text(element, "MaterialDefinitionID") for element in produced} - {""})
    if len(parts) > 1:
        raise request.invalid(
            f"it produces several materials ({', '.join(parts)}), a work order makes one",
            produced=parts,
        )
    for element in produced:
        if _text(element, "MaterialDefinitionID"):
            return element
    # V0401 may name the product by its production rule only: the quantity is still here.
    return produced[0] if produced else None


def _revision(element: ET.Element, produced: ET.Element | None) -> str:
    """A Revision property of the produced material, else a Revision parameter of the
    request; empty when neither is there."""
    scopes = ((produced, REVISION_PROPERTY_TAGS), (element, REVISION_PARAMETER_TAGS))
    for scope, tags in scopes:
        if scope is None:
            continue
        for candidate in scope.iter():
            if _local(candidate) in tags and _text(candidate, "ID").casefold() == "revision":
                return _text(candidate, "Value", "ValueString")
    return ""


def _fits_quantity_field(quantity: Decimal) -> bool:
    """At most QUANTITY_PLACES decimals and QUANTITY_DIGITS digits in all. The size is
    checked first, without arithmetic: 1E+999999999 would overflow the decimal context."""
    if quantity.adjusted() >= QUANTITY_DIGITS - QUANTITY_PLACES:
        return False
    return quantity == quantity.quantize(QUANTUM)


def _quantity(request: _Request, text: str) -> Decimal:
    try:
        quantity = Decimal(text)
    except InvalidOperation:
        quantity = None
    if quantity is None or not quantity.is_finite() or quantity <= 0:
        raise request.invalid(f"quantity {text!r} is not a positive number", quantity=text)
    if not _fits_quantity_field(quantity):
        raise request.invalid(
            f"quantity {text} has more than {QUANTITY_PLACES} decimals or is too large",
            quantity=text,
        )
    return quantity


def _datetime(request: _Request, text: str) -> datetime:
    try:
        value = parse_datetime(text)
    except ValueError:
        value = None
    if value is None:
        raise request.invalid(f"{text!r} is not an ISO 8601 date and time", start_time=text)
    # xsd:dateTime may omit the offset: the plant's time zone is meant. Kept in UTC: Python
    # reads offsets up to 23:59, PostgreSQL only up to 15:59.
    try:
        value = value if timezone.is_aware(value) else timezone.make_aware(value)
        return value.astimezone(UTC)
    except OverflowError:
        raise request.invalid(f"{text!r} is out of range", start_time=text) from None


def _start(request: _Request) -> datetime | None:
    """StartTime, else the earliest EarliestStartTime of its segments."""
    own = _text(request.element, "StartTime")
    texts = [own] if own else _descendant_texts(request.element, "EarliestStartTime")
    return min((_datetime(request, text) for text in texts), default=None)


def _priority(request: _Request) -> int:
    """Priority clamped to our 1..9 (1 the most urgent); absent: 5."""
    text = _text(request.element, "Priority")
    if not text:
        return DEFAULT_PRIORITY
    try:
        value = Decimal(text)
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite():
        raise request.invalid(f"priority {text!r} is not a number", priority=text)
    # Clamped before rounding, so that a huge value never becomes a huge int.
    clamped = min(max(value, Decimal(1)), Decimal(9))
    return int(clamped.to_integral_value(rounding=ROUND_HALF_UP))


def _site(element: ET.Element) -> str:
    """The site the request's hierarchy scope (V0401: location) names, if it names one;
    empty: the site of the routing's first operation."""
    scope = _child(element, "HierarchyScope", "Location")
    while scope is not None:
        level = _text(scope, "EquipmentLevel") or _text(scope, "EquipmentElementLevel")
        if level.casefold() == "site":
            return _text(scope, "EquipmentID")
        scope = _child(scope, "HierarchyScopeChild", "Location")
    return ""
