"""The PNG chart of attendance and committed spend over time.

matplotlib is imported and the figure built inside the call, on the Agg
(file-only) canvas, never through pyplot: no global state shared between
requests, nothing built at import time, no display needed.
"""

from __future__ import annotations

import io
from datetime import date

from services.tracking.domain import WeekOfAttendance


def render(title: str, weeks: list[WeekOfAttendance], months: list[tuple[date, int]],
           threshold: float | None = None) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
    from matplotlib.figure import Figure

    figure = Figure(figsize=(10, 7), dpi=100)
    figure.subplots_adjust(left=0.09, right=0.97, top=0.91, bottom=0.07, hspace=0.3)
    FigureCanvasAgg(figure)
    attendance, spend = figure.subplots(2, 1)
    figure.suptitle(title)

    rated = [week for week in weeks if week.rate is not None]
    if rated:
        attendance.plot([w.week_commencing for w in rated], [float(w.rate) * 100 for w in rated],
                        marker=".", linewidth=1.5, label="attendance")
        if threshold is not None:
            attendance.axhline(threshold * 100, color="tab:red", linestyle="--", linewidth=1,
                               label=f"concern threshold {threshold:.0%}")
        attendance.legend(loc="lower left")
    else:
        attendance.text(0.5, 0.5, "no attendance returned yet", ha="center", va="center",
                        transform=attendance.transAxes)
    attendance.set_ylim(0, 105)
    attendance.set_ylabel("attendance (% of sessions offered)")
    attendance.set_title("Attendance by week")
    attendance.grid(alpha=0.3)

    if months:
        spend.bar([m for m, _ in months], [pence / 100 for _, pence in months], width=27, align="edge",
                  color="tab:green")
    else:
        spend.text(0.5, 0.5, "no committed spend", ha="center", va="center", transform=spend.transAxes)
    spend.set_ylabel("committed spend (GBP)")
    spend.set_title("Committed spend by month")
    spend.grid(alpha=0.3, axis="y")
    for axes in (attendance, spend):
        locator = AutoDateLocator()
        axes.xaxis.set_major_locator(locator)
        axes.xaxis.set_major_formatter(ConciseDateFormatter(locator))

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
