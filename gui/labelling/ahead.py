"""Pictures painted ahead in idle time and drawn by a widget's next paint (shown once, checked by a key)."""

from __future__ import annotations

from collections.abc import Callable, Hashable

from PySide6.QtCore import Qt
from PySide6.QtGui import QPainter, QPaintEvent, QPixmap
from PySide6.QtWidgets import QScrollBar, QWidget


class Ahead:
    """One picture of ``widget``, painted now and drawn by its next paint while ``key()`` is unchanged.

    Painting a document or a styled scroll bar costs 0.5-1 ms; drawing a picture of it a tenth of
    that. The picture is drawn once: any later paint (scrolling, hovering, resizing) paints as
    usual, and so does the next paint when ``key()`` differs from the key it was painted with.

    A widget that fills its background (a scroll area's viewport) is marked opaque while a
    picture waits, so Qt does not fill what the picture covers (0.05-0.15 ms a document); a stale
    picture's paint fills the background itself before painting as usual.
    """

    def __init__(self, widget: QWidget, key: Callable[[], Hashable]) -> None:
        self.widget, self.key = widget, key
        self._picture: tuple[QPixmap, Hashable] | None = None
        self.shown = 0  # paints that drew a picture painted ahead
        self._fills = widget.autoFillBackground() and not widget.testAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)

    def _opaque(self, on: bool) -> None:
        if self._fills:
            self.widget.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent, on)

    @property
    def ready(self) -> bool:
        """A picture waits for the next paint."""
        return self._picture is not None

    def paint(self) -> None:
        """Paint the widget now into the picture (idle time; the widget may be covered)."""
        self._picture = None  # the widget's own paint below must not draw the old picture
        ratio = self.widget.devicePixelRatioF()
        picture = QPixmap(self.widget.size() * ratio)
        picture.setDevicePixelRatio(ratio)
        self.widget.render(picture)
        self._picture = (picture, self.key())
        self._opaque(True)

    def forget(self) -> None:
        """Drop the picture (what it shows is being replaced)."""
        self._picture = None
        self._opaque(False)

    def draw(self) -> bool:
        """From the widget's paint event: draw the picture if it is still right; True when drawn."""
        picture, self._picture = self._picture, None
        if picture is None:
            return False
        self._opaque(False)
        painter = QPainter(self.widget)
        if picture[1] != self.key():  # stale: the widget paints itself, on the background Qt skipped
            if self._fills:
                painter.fillRect(self.widget.rect(), self.widget.palette().brush(self.widget.backgroundRole()))
            painter.end()
            return False
        painter.drawPixmap(0, 0, picture[0])
        painter.end()
        self.shown += 1
        return True


class AheadScrollBar(QScrollBar):
    """A scroll bar whose next paint can be painted ahead (see :class:`Ahead`)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ahead = Ahead(self, self._key)

    def _key(self) -> Hashable:
        return (self.size().toTuple(), self.minimum(), self.maximum(), self.value(), self.pageStep(),
                self.isEnabled(), self.underMouse(), self.isSliderDown(), self.palette().cacheKey())  # fmt: skip

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt override)
        """Draw the picture painted ahead when it is still right, else paint as usual."""
        if not self.ahead.draw():
            super().paintEvent(event)
