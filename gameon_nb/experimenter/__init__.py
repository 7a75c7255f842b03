"""The experimenter: a VLM (or the scripted rules) proposes, decomposes, judges and analyses.

    >>> from gameon_nb.experimenter import Experimenter, ProposalContext
    >>> exp = Experimenter(config.experimenter, run_dir, seed=config.seed)
    >>> exp.propose_task(ProposalContext(scene_image, scene_state, library, round=1)).task

Backends per role ('gemini', 'openai', 'scripted', 'replay'), prompts as text files in
`prompts/`, every call through a ledger (cache, budget, retries, call log), and evaluation helpers
that score the judge and the analyst against the rules.
"""

from gameon_nb.experimenter.backends import BACKENDS, BackendSpec, make_backend
from gameon_nb.experimenter.backends.scripted import ScriptedExperimenter
from gameon_nb.experimenter.contexts import (
    CurveContext,
    DecompositionContext,
    HistoryEntry,
    JudgeContext,
    ProposalContext,
)
from gameon_nb.experimenter.curves import CurveLabel, label_curve, synthetic_curves
from gameon_nb.experimenter.decisions import Decomposition, ProgressVerdict, Proposal, Verdict
from gameon_nb.experimenter.errors import (
    BackendConfigError,
    BudgetExceededError,
    MissingDependencyError,
    ReplayMissError,
    UnknownBackendError,
    VLMApiError,
    VLMAuthError,
    VLMError,
    VLMResponseError,
    VLMTransportError,
)
from gameon_nb.experimenter.evaluation import analyst_agreement, judge_agreement
from gameon_nb.experimenter.experimenter import Experimenter
from gameon_nb.experimenter.ledger import Ledger, read_call_log
from gameon_nb.experimenter.protocol import VLM, VLMRequest, VLMResponse

__all__ = [
    "BACKENDS",
    "VLM",
    "BackendConfigError",
    "BackendSpec",
    "BudgetExceededError",
    "CurveContext",
    "CurveLabel",
    "Decomposition",
    "DecompositionContext",
    "Experimenter",
    "HistoryEntry",
    "JudgeContext",
    "Ledger",
    "MissingDependencyError",
    "ProgressVerdict",
    "Proposal",
    "ProposalContext",
    "ReplayMissError",
    "ScriptedExperimenter",
    "UnknownBackendError",
    "VLMApiError",
    "VLMAuthError",
    "VLMError",
    "VLMRequest",
    "VLMResponse",
    "VLMResponseError",
    "VLMTransportError",
    "Verdict",
    "analyst_agreement",
    "judge_agreement",
    "label_curve",
    "make_backend",
    "read_call_log",
    "synthetic_curves",
]
