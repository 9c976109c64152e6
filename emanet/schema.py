"""Every mapped table, imported in one place so Alembic and tests see the whole schema."""

from broker.businesses.models import Business, OAuthClient, PairwiseSubject, StaffUser
from broker.invites.models import Invite
from broker.oauth.models import AuthorizationCode, OAuthToken, PendingAuthorization
from broker.webhooks.models import WebhookDelivery, WebhookEndpoint
from business_portal.compliance.models import (
    AgreementReview,
    Auditor,
    LogVerification,
    ReportJob,
    ReviewEvent,
)
from business_portal.customers.models import IndexedAgreement, SearchTerm
from business_portal.records.keys import BusinessKey
from business_portal.records.models import (
    CustomerTag,
    Deal,
    Note,
    PipelineStage,
    RequestTemplate,
    SavedView,
    Task,
)
from business_portal.segments.models import RfmScore
from vault.access_log.models import AccessEvent, ChainHead
from vault.accounts.models import Customer
from vault.agreements.models import Agreement, AgreementEvent
from vault.interactions.models import Interaction
from vault.keys.models import CustomerKey, KekRecord
from vault.orm import Base
from vault.outbox.models import OutboxEvent
from vault.profile.models import ProfileField, ProfileFieldVersion
from vault.receipts.models import ConsentReceipt

metadata = Base.metadata

__all__ = [
    "AccessEvent",
    "Agreement",
    "AgreementEvent",
    "AgreementReview",
    "Auditor",
    "AuthorizationCode",
    "Business",
    "BusinessKey",
    "ChainHead",
    "ConsentReceipt",
    "Customer",
    "CustomerKey",
    "CustomerTag",
    "Deal",
    "IndexedAgreement",
    "Interaction",
    "Invite",
    "KekRecord",
    "LogVerification",
    "Note",
    "OAuthClient",
    "OAuthToken",
    "OutboxEvent",
    "PairwiseSubject",
    "PendingAuthorization",
    "PipelineStage",
    "ProfileField",
    "ProfileFieldVersion",
    "ReportJob",
    "RequestTemplate",
    "ReviewEvent",
    "RfmScore",
    "SavedView",
    "SearchTerm",
    "StaffUser",
    "Task",
    "WebhookDelivery",
    "WebhookEndpoint",
    "metadata",
]
