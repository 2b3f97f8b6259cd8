"""Qualification questions and their assessment.

Every question of a lot is a qualification criterion: an applicant is
admitted to a lot only when it passes every question of that lot.  A pass/fail
question is answered yes or no (True/False); a scored question is answered
with a whole-number score within its range and passes at or above its pass
mark.  The score is the one given with the answer, or the council's mark
when the manager marks it (see Application.mark).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from .common import is_whole_number


@dataclass(frozen=True)
class PassFailQuestion:
    id: str
    text: str
    pass_answer: bool = True  # False for questions such as "Has the organisation been convicted of ...?"


@dataclass(frozen=True)
class ScoredQuestion:
    id: str
    text: str
    pass_mark: int
    min_score: int = 0
    max_score: int = 5


Question = PassFailQuestion | ScoredQuestion
Answer = bool | int


@dataclass(frozen=True)
class QuestionResult:
    question_id: str
    passed: bool
    reason: str | None = None  # why it failed, in words the applicant is told
    score: int | None = None


@dataclass(frozen=True)
class Assessment:
    results: tuple[QuestionResult, ...]

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.results)

    @property
    def failures(self) -> tuple[QuestionResult, ...]:
        return tuple(r for r in self.results if not r.passed)


def _yes_no(value: bool) -> str:
    return "yes" if value else "no"


def answer_problem(question: Question, answer: object) -> str | None:
    """Why an answer is not a valid answer to the question at all (None if it is)."""
    if isinstance(question, PassFailQuestion):
        return None if isinstance(answer, bool) else "the answer must be yes or no"
    if not is_whole_number(answer):
        return "the score must be a whole number"
    if not question.min_score <= answer <= question.max_score:  # type: ignore[operator]
        return f"the score {answer} is outside the range {question.min_score} to {question.max_score}"
    return None


def assess_answer(question: Question, answer: object, answered: bool = True) -> QuestionResult:
    if not answered:
        return QuestionResult(question.id, False, "no answer given")
    problem = answer_problem(question, answer)
    if problem:
        return QuestionResult(question.id, False, f"invalid answer: {problem}")
    if isinstance(question, PassFailQuestion):
        if answer is question.pass_answer:
            return QuestionResult(question.id, True)
        return QuestionResult(question.id, False, f"answered {_yes_no(answer)}; "  # type: ignore[arg-type]
                                                  f"{_yes_no(question.pass_answer)} is required to pass")
    if answer < question.pass_mark:  # type: ignore[operator]
        return QuestionResult(question.id, False,
                              f"score {answer} is below the pass mark of {question.pass_mark}", answer)  # type: ignore[arg-type]
    return QuestionResult(question.id, True, score=answer)  # type: ignore[arg-type]


def assess_answers(questions: tuple[Question, ...] | list[Question],
                   answers: Mapping[str, object]) -> Assessment:
    """Each question's result, in the order of the questions.  A missing or
    invalid answer fails its question; answers to other questions are ignored."""
    return Assessment(tuple(
        assess_answer(q, answers.get(q.id), answered=q.id in answers) for q in questions
    ))
