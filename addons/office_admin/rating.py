# This file is part of office_admin.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""A rating from 1 (poor) to 5 (excellent) with a comment, given when a
piece of work is closed (a repair by its reporter, a reception by the
requesting department), and its average over a period for the
satisfaction figures."""
import datetime as dt

from sql.aggregate import Avg

from trytond.exceptions import UserError
from trytond.i18n import gettext
from trytond.model import fields
from trytond.transaction import Transaction

from . import calendar_

RATINGS = [(None, "")] + [(str(i), str(i)) for i in range(1, 6)]


class RatingMixin:
    """A rating and its comment, written only by the model's own rating
    step, which checks the value with check_rating; _rating_date names the
    field that dates the rating"""
    __slots__ = ()
    _rating_error = UserError
    _rating_date = None
    rating = fields.Integer(
        "Rating", readonly=True, help="1 (poor) to 5 (excellent).")
    feedback = fields.Text("Comment", readonly=True)

    @classmethod
    def check_rating(cls, rating):
        "Refuse a rating that is not a whole number from 1 to 5"
        if (not isinstance(rating, int) or isinstance(rating, bool)
                or not 1 <= rating <= 5):
            raise cls._rating_error(gettext('office_admin.msg_rating'))

    @classmethod
    def rating_average(cls, from_date=None, to_date=None, domain=None):
        """Return the average rating of the records the user sees (within
        domain) rated from from_date to to_date included, company-local
        days; None when there is none"""
        table = cls.__table__()
        domain = [('rating', '!=', None), domain or []]
        if from_date:
            domain.append((cls._rating_date, '>=', calendar_.to_utc(
                        dt.datetime.combine(from_date, dt.time()))))
        if to_date:
            domain.append((cls._rating_date, '<', calendar_.to_utc(
                        dt.datetime.combine(
                            to_date + dt.timedelta(days=1), dt.time()))))
        query = cls.search(domain, order=[], query=True)
        cursor = Transaction().connection.cursor()
        cursor.execute(*table.select(
                Avg(table.rating), where=table.id.in_(query)))
        average, = cursor.fetchone()
        return float(average) if average is not None else None


class RatingStartMixin:
    "The start view of a rating wizard: a rating 1-5 and a comment"
    __slots__ = ()
    rating = fields.Selection(
        RATINGS, "Rating", required=True, sort=False,
        help="1 (poor) to 5 (excellent).")
    feedback = fields.Text("Comment")

    @property
    def rating_value(self):
        "The rating chosen as an integer, None when it is not one"
        try:
            return int(self.rating)
        except (TypeError, ValueError):
            return None
