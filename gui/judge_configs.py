"""Judge configuration browser: list built-in and user configurations, show and edit their TOML."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)  # fmt: skip

from tiebreak.core.judge.config import (
    ConfigError,
    JudgeConfig,
    list_configs,
    save_user_config,
    user_dir,
)
from tiebreak.gui.safe_text import plain_label, plain_tooltip

NAME_ROLE = 0x0100  # Qt.ItemDataRole.UserRole


class JudgeConfigEditor(QWidget):
    """Lists configurations; shows the selected file's TOML; saves edits as a user configuration.

    Signals
    -------
    selected(str)
        The name of the configuration now selected ("" when none).
    saved(str)
        A configuration was saved to the user folder (its name).
    """

    selected = Signal(str)
    saved = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.configs: dict[str, JudgeConfig] = {}
        self.list = QListWidget()
        self.list.setObjectName("judgeConfigList")
        self.text = QPlainTextEdit()
        self.text.setObjectName("judgeConfigText")
        self.text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.save_button = QPushButton("Save as user configuration")
        self.revert_button = QPushButton("Revert")
        self.message = plain_label()
        self.message.setObjectName("judgeConfigMessage")
        self.message.setWordWrap(True)
        buttons = QHBoxLayout()
        buttons.addWidget(self.save_button)
        buttons.addWidget(self.revert_button)
        buttons.addStretch(1)
        col = QVBoxLayout(self)
        col.addWidget(QLabel("Judge configurations"))
        col.addWidget(self.list, 1)
        col.addWidget(self.text, 3)
        col.addLayout(buttons)
        col.addWidget(self.message)
        self.list.currentItemChanged.connect(self._show)
        self.save_button.clicked.connect(self.save)
        self.revert_button.clicked.connect(lambda: self._show(self.list.currentItem()))
        self.reload()

    def reload(self, select: str | None = None) -> None:
        """Re-read the configuration folders (built-in, then the user's)."""
        current = select or self.current_name()
        try:
            self.configs = list_configs()
        except ConfigError as exc:
            self.message.setText(f"A configuration file is invalid: {exc}")
            self.configs = {}
        self.list.clear()
        for name, config in sorted(self.configs.items()):
            item = QListWidgetItem(f"{name}  ({config.source}, {config.model})")
            item.setData(NAME_ROLE, name)
            item.setToolTip(plain_tooltip(config.description or str(config.path)))
            self.list.addItem(item)
            if name == current:
                self.list.setCurrentItem(item)
        if self.list.currentItem() is None and self.list.count():
            self.list.setCurrentRow(0)

    def current_name(self) -> str:
        """Name of the selected configuration ("" when none)."""
        item = self.list.currentItem()
        return str(item.data(NAME_ROLE)) if item is not None else ""

    def current(self) -> JudgeConfig | None:
        """The selected configuration, as loaded from its file."""
        return self.configs.get(self.current_name())

    def _show(self, item: QListWidgetItem | None) -> None:
        config = self.configs.get(str(item.data(NAME_ROLE))) if item is not None else None
        if config is None or config.path is None:
            self.text.setPlainText("")
        else:
            self.text.setPlainText(config.path.read_text(encoding="utf-8"))
            where = "built in (save to make an editable copy)" if config.source == "builtin" else str(config.path)
            self.message.setText(f"{config.name}: {where}")
        self.selected.emit(self.current_name())

    def save(self) -> bool:
        """Validate the edited text and save it to the user folder; report errors in place."""
        try:
            config = save_user_config(self.text.toPlainText())
        except ConfigError as exc:
            self.message.setText(f"Not saved: {exc}")
            return False
        self.reload(select=config.name)
        self.message.setText(f"Saved {config.name} to {user_dir()}")
        self.saved.emit(config.name)
        return True
