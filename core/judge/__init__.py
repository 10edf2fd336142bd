"""The LLM judge: configurations, prompts, the order coin, parsers, cache, online and batch runs."""

from core.judge.client import FatalJudgeError, JudgeError, RetryPolicy, resolve_api_key
from core.judge.config import ConfigError, JudgeConfig, list_configs, load_config
from core.judge.job import JudgeOptions, Summary, annotator_name
from core.judge.runner import CancelToken, Progress, run_judge, run_judge_async

__all__ = [
    "CancelToken", "ConfigError", "FatalJudgeError", "JudgeConfig", "JudgeError", "JudgeOptions",
    "Progress", "RetryPolicy", "Summary", "annotator_name", "list_configs", "load_config",
    "resolve_api_key", "run_judge", "run_judge_async",
]  # fmt: skip
