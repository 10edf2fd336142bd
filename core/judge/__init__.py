"""The LLM judge: configurations, prompts, the order coin, parsers, cache, online and batch runs."""

from tiebreak.core.judge.client import FatalJudgeError, JudgeError, RetryPolicy, resolve_api_key
from tiebreak.core.judge.config import ConfigError, JudgeConfig, list_configs, load_config
from tiebreak.core.judge.job import JudgeOptions, Summary, annotator_name
from tiebreak.core.judge.runner import CancelToken, Progress, run_judge, run_judge_async

__all__ = [
    "CancelToken", "ConfigError", "FatalJudgeError", "JudgeConfig", "JudgeError", "JudgeOptions",
    "Progress", "RetryPolicy", "Summary", "annotator_name", "list_configs", "load_config",
    "resolve_api_key", "run_judge", "run_judge_async",
]  # fmt: skip
