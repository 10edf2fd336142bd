"""Look of the labelling widgets from palette roles and fonts only (no stylesheet: cheap to paint)."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QSize, Qt
from PySide6.QtGui import QPainter, QPaintEvent, QPalette
from PySide6.QtWidgets import QFrame, QLabel, QSizePolicy, QStyle, QStyleOptionProgressBar, QWidget


def emphasise(label: QLabel, *, bold: bool = False, panel: bool = False, scale: float = 1.0) -> None:
    """Style a label with palette roles only (follows the system light/dark palette; no QSS)."""
    font = label.font()
    font.setBold(bold)
    if scale != 1.0:
        font.setPointSizeF(font.pointSizeF() * scale)
    label.setFont(font)
    if panel:
        label.setFrameShape(QFrame.Shape.StyledPanel)
        label.setMargin(4)
        label.setAutoFillBackground(True)
        label.setBackgroundRole(QPalette.ColorRole.AlternateBase)


class TextStrip(QFrame):
    """Plain text of a fixed number of lines that repaints itself alone when the text changes.

    A QLabel asks its parents to lay out again on every ``setText`` (and a QTabWidget above
    then repaints the whole window); this strip only calls ``update()``, which keeps a label
    press at a few small repaints. It fills its background (palette Window, or AlternateBase for
    a panel), so its parent is not painted again under it: place it on a plain background.
    A one-line strip cuts a text too wide for it with "…" at the end (a side and its model name
    come first) and shows the whole text as its tooltip; longer strips wrap.
    """

    def __init__(self, lines: int = 1, *, bold: bool = False, panel: bool = False,
                 align: Qt.AlignmentFlag = Qt.AlignmentFlag.AlignLeft, placeholder: str = "") -> None:  # fmt: skip
        super().__init__()
        self._text, self._lines, self._align, self.placeholder = "", lines, align, placeholder
        self._panel = panel
        # opaque (it fills its own background): a new text repaints the strip, nothing under it
        self.setAutoFillBackground(True)
        if bold:
            font = self.font()
            font.setBold(True)
            self.setFont(font)
        if panel:
            self.setFrameShape(QFrame.Shape.StyledPanel)
            self.setBackgroundRole(QPalette.ColorRole.AlternateBase)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self._fit()

    def _fit(self) -> None:
        self.setFixedHeight(self._lines * self.fontMetrics().lineSpacing() + 2 * self.frameWidth() + 12)

    def text(self) -> str:
        """The text shown."""
        return self._text

    def setText(self, text: str) -> None:  # noqa: N802 (QLabel-like API)
        """Show ``text`` (plain, word-wrapped; beyond the fixed lines it is elided by clipping)."""
        if text != self._text:
            self._text = text
            self.update()

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt override)
        """Narrow and exactly as tall as the lines."""
        return QSize(80, self.height())

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 (Qt override)
        """Follow font changes (Ctrl+plus / Ctrl+minus)."""
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:
            self._fit()

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt override)
        """Draw the panel's border, then the text (or the dimmed placeholder).

        The border is a 1-pixel line in the palette's Mid colour (what Fusion draws for a styled
        panel), drawn here because the style draws it with a non-cosmetic pen, which cost about
        0.25 ms per repaint of the reveal strip (once per label).
        """
        painter = QPainter(self)
        if self._panel:
            painter.setPen(self.palette().color(QPalette.ColorRole.Mid))
            painter.drawRect(self.rect().adjusted(0, 0, -1, -1))
            painter.setPen(self.palette().color(self.foregroundRole()))
        rect = self.contentsRect().adjusted(4, 4, -4, -4)
        flags = self._align | Qt.AlignmentFlag.AlignVCenter
        if self._lines > 1:
            flags |= Qt.TextFlag.TextWordWrap
        if self._text and self._lines == 1:
            shown = self.fontMetrics().elidedText(self._text, Qt.TextElideMode.ElideRight, rect.width())
            tip = self._text if shown != self._text else ""
            if self.toolTip() != tip:
                self.setToolTip(tip)
            painter.drawText(rect, flags, shown)
        elif self._text:
            painter.drawText(rect, flags, self._text)
        elif self.placeholder:
            painter.setPen(self.palette().color(QPalette.ColorRole.PlaceholderText))
            painter.drawText(rect, flags, self.placeholder)
        painter.end()


class ProgressStrip(QWidget):
    """A flat progress bar that repaints only when its filled width changes, with the next paint.

    ``QProgressBar.setValue`` repaints synchronously whenever the filled part grows by a chunk
    (a second paint and flush inside the key press, 4-5 ms in about one press in a hundred), and
    the style's bar (gradients, rounded groove, a parent painted under it) cost about 1 ms per
    repaint. This one fills its own rectangle (opaque: nothing under it is painted again): a
    groove in the palette's Base colour with a Mid border, the done part in Highlight.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._minimum, self._maximum, self._value = 0, 1, 0
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)

    def value(self) -> int:
        """The value shown."""
        return self._value

    def maximum(self) -> int:
        """The end of the range."""
        return self._maximum

    def setRange(self, minimum: int, maximum: int) -> None:  # noqa: N802 (QProgressBar-like API)
        """The range the value moves in."""
        if (minimum, maximum) != (self._minimum, self._maximum):
            self._minimum, self._maximum = minimum, max(minimum, maximum)
            self._value = min(max(self._value, self._minimum), self._maximum)
            self.update()

    def setValue(self, value: int) -> None:  # noqa: N802 (QProgressBar-like API)
        """Show ``value`` (clamped to the range) at the next paint (none when no pixel changes)."""
        value = min(max(value, self._minimum), self._maximum)
        if value != self._value:
            before = self.filled_width()
            self._value = value
            if self.filled_width() != before:
                self.update()

    def filled_width(self) -> int:
        """Pixels of the groove's inside drawn as done."""
        span = self._maximum - self._minimum
        inside = max(self.width() - 2, 0)
        return 0 if span <= 0 else round(inside * (self._value - self._minimum) / span)

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt override)
        """As tall as the style makes a progress bar around one line of text."""
        option = QStyleOptionProgressBar()
        option.initFrom(self)
        return self.style().sizeFromContents(QStyle.ContentsType.CT_ProgressBar, option,
                                             QSize(80, self.fontMetrics().height()), self)  # fmt: skip

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt override)
        """Window background, the groove, the done part."""
        palette = self.palette()
        painter = QPainter(self)
        painter.fillRect(self.rect(), palette.color(QPalette.ColorRole.Window))
        groove = self.rect().adjusted(0, 2, -1, -3)
        painter.setPen(palette.color(QPalette.ColorRole.Mid))
        painter.setBrush(palette.color(QPalette.ColorRole.Base))
        painter.drawRect(groove)
        done = self.filled_width()
        if done:
            painter.fillRect(groove.left() + 1, groove.top() + 1, done, groove.height() - 1,
                             palette.color(QPalette.ColorRole.Highlight))  # fmt: skip
        painter.end()
