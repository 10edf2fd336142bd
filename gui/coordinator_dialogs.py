"""The Coordinator's "Create round" dialog: collects the arguments of ``create_round``."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QWidget,
)  # fmt: skip


def _browse(edit: QLineEdit, folder: bool, parent: QWidget) -> QWidget:
    row = QWidget()
    lay = QHBoxLayout(row)
    lay.setContentsMargins(0, 0, 0, 0)
    button = QPushButton("Browse…")

    def pick() -> None:
        path = (QFileDialog.getExistingDirectory(parent, "Folder") if folder
                else QFileDialog.getOpenFileName(parent, "Gold file", "", "JSON / JSONL (*.json *.jsonl)")[0])  # fmt: skip
        if path:
            edit.setText(path)

    button.clicked.connect(pick)
    lay.addWidget(edit, 1)
    lay.addWidget(button)
    return row


class CreateRoundDialog(QDialog):
    """Name, annotators, overlap K, item filter, gold file and the folder for the packs."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Create crowd round")
        self.name, self.workers, self.items = QLineEdit(), QLineEdit(), QLineEdit()
        self.gold, self.out = QLineEdit(), QLineEdit()
        self.workers.setPlaceholderText("alice, bob, carol, …")
        self.items.setPlaceholderText("reference=R,generator=A|B,dataset=D,limit=N (empty: all)")
        self.overlap = QSpinBox()
        self.overlap.setRange(1, 50)
        self.overlap.setValue(3)
        form = QFormLayout(self)
        form.addRow("Round name", self.name)
        form.addRow("Annotators", self.workers)
        form.addRow("Overlap K", self.overlap)
        form.addRow("Items", self.items)
        form.addRow("Gold file", _browse(self.gold, False, self))
        form.addRow("Pack folder", _browse(self.out, True, self))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def values(self) -> dict[str, Any]:
        """Keyword arguments for ``CoordinatorScreen.create``."""
        return {"name": self.name.text().strip(),
                "workers": [w.strip() for w in self.workers.text().split(",") if w.strip()],
                "overlap": self.overlap.value(), "out_dir": self.out.text().strip() or ".",
                "items": self.items.text().strip() or None, "gold_file": self.gold.text().strip() or None}  # fmt: skip
