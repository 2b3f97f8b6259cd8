"""The PNG chart a manager asks for: attendance by week, and committed and
spent money by month, on ONE time axis over the period that has data
(`domain.chart_data`), every value labelled, and the tables it was drawn
from named under it (the API links them too).

matplotlib is imported and the figure built inside the call, on the Agg
(file-only) canvas, never through pyplot: no global state shared between
requests, nothing built at import time, no display needed.
"""

from __future__ import annotations

import calendar
import io
from datetime import timedelta

from services.tracking.domain import ChartData

MAX_LABELS = 40  # beyond this many points, every n-th is labelled so the labels stay legible


def _every(count: int) -> int:
    return max(1, -(-count // MAX_LABELS))


def _pounds(pence: int) -> str:
    return f"£{pence / 100:,.0f}"


def render(title: str, data: ChartData, threshold: float | None = None, tables: list[str] = ()) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
    from matplotlib.figure import Figure

    figure = Figure(figsize=(11, 8), dpi=100)
    figure.subplots_adjust(left=0.09, right=0.97, top=0.91, bottom=0.12, hspace=0.25)
    FigureCanvasAgg(figure)
    attendance, spend = figure.subplots(2, 1, sharex=True)  # one time axis
    figure.suptitle(title)

    rated = [week for week in data.weeks if week.rate is not None]
    if rated:
        days = [w.week_commencing for w in rated]
        percents = [float(w.rate) * 100 for w in rated]
        attendance.plot(days, percents, marker=".", linewidth=1.5, label="attendance by week")
        step = _every(len(rated))
        for day, percent in list(zip(days, percents, strict=True))[::step]:
            attendance.annotate(f"{percent:.0f}%", (day, percent), textcoords="offset points", xytext=(0, 5),
                                ha="center", fontsize=7)
        if threshold is not None:
            attendance.axhline(threshold * 100, color="tab:red", linestyle="--", linewidth=1,
                               label=f"concern threshold {threshold:.0%}")
        attendance.legend(loc="lower left")
    else:
        attendance.text(0.5, 0.5, "no attendance returned yet", ha="center", va="center",
                        transform=attendance.transAxes)
    attendance.set_ylim(0, 112)
    attendance.set_ylabel("attendance (% of sessions offered)")
    attendance.set_title("Attendance by week")
    attendance.grid(alpha=0.3)

    if data.months:
        halves = [calendar.monthrange(m.month_start.year, m.month_start.month)[1] / 2 for m in data.months]
        starts = [m.month_start for m in data.months]
        committed = spend.bar(starts, [m.committed_pence / 100 for m in data.months], width=[h - 0.5 for h in halves],
                              align="edge", color="tab:green", label="committed")
        spent = spend.bar([s + timedelta(days=h) for s, h in zip(starts, halves, strict=True)],
                          [m.spent_pence / 100 for m in data.months], width=[h - 0.5 for h in halves],
                          align="edge", color="tab:blue", label="spent to date")
        step = _every(len(data.months))
        for bars, values in ((committed, [m.committed_pence for m in data.months]),
                             (spent, [m.spent_pence for m in data.months])):
            labels = [_pounds(v) if i % step == 0 else "" for i, v in enumerate(values)]
            spend.bar_label(bars, labels=labels, fontsize=7, rotation=90, padding=2)
        spend.margins(y=0.25)
        spend.legend(loc="upper left")
    else:
        spend.text(0.5, 0.5, "no committed spend", ha="center", va="center", transform=spend.transAxes)
    spend.set_ylabel("GBP")
    spend.set_title("Committed and spent by month")
    spend.grid(alpha=0.3, axis="y")

    if data.first_day is not None:
        spend.set_xlim(data.first_day, data.last_day + timedelta(days=1))
    locator = AutoDateLocator()
    spend.xaxis.set_major_locator(locator)
    spend.xaxis.set_major_formatter(ConciseDateFormatter(locator))
    if tables:
        figure.text(0.01, 0.01, "Drawn from: " + "  ".join(tables), fontsize=8, color="dimgray")

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
