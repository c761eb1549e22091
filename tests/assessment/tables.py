"""The tables of the feedback and assessment features, children first (foreign keys)."""

from gridgov.assessment.models import AssessmentFigure, AssessmentRun, AssessmentScore, AssessmentWeightSet
from gridgov.feedback.models import CallbackSampling, CaseCallback, CaseReply, PublicRating

FEATURE_TABLES = (CaseCallback, CaseReply, PublicRating, CallbackSampling, AssessmentFigure, AssessmentScore,
                  AssessmentRun, AssessmentWeightSet)
