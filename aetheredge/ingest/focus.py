"""An export stored in one transaction, replacing what it restates.

For each provider, billing account and billing period the export holds, the charges
stored before are deleted and the export's are written (``focus_charges``), and so are
the cost model's workload-days built from that period (``cost_usage`` rows carrying its
``billing_scope``). Sending the same file again changes nothing; a refreshed
month-to-date export brings the stored totals to the new file's.
"""

from __future__ import annotations

from dataclasses import dataclass

from aetheredge.focus.charges import COLUMNS, Charges
from aetheredge.focus.days import COLUMNS as DAY_COLUMNS
from aetheredge.focus.days import FocusLoad, records
from aetheredge.settings import Settings
from aetheredge.stores.postgres import UNAVAILABLE, DatabaseUnavailableError
from aetheredge.stores.postgres.writer import Database

_REPLACE = """
WITH gone AS (
    DELETE FROM focus_charges c
    USING unnest($1::text[], $2::text[], $3::timestamptz[]) AS s(provider, account, period)
    WHERE c.provider = s.provider AND c.billing_account_id = s.account
      AND c.billing_period_start = s.period
    RETURNING 1
) SELECT count(*) FROM gone
"""


@dataclass(frozen=True)
class Stored:
    """What a store did: charges replaced and written, workload-days written."""

    replaced: int
    charges: int
    workload_days: int


async def store(settings: Settings, charges: Charges, load: FocusLoad) -> Stored:
    """Replace what ``charges`` restate with them, and their workload-days with ``load``."""
    rows = charges.frame[charges.stored]
    scopes = rows[["ProviderName", "BillingAccountId", "BillingPeriodStart"]].drop_duplicates()
    database = Database(settings)
    try:
        days_writer = await database.writer("cost_usage", DAY_COLUMNS)
        async with days_writer.pool.acquire() as conn, conn.transaction():
            replaced = await conn.fetchval(
                _REPLACE,
                scopes["ProviderName"].astype(str).to_list(),
                scopes["BillingAccountId"].astype(str).to_list(),
                [t.to_pydatetime() for t in scopes["BillingPeriodStart"]],
            )
            await conn.copy_records_to_table(
                "focus_charges",
                records=charges.records(),
                columns=[*COLUMNS, "focus_version"],
            )
            await conn.execute(
                "DELETE FROM cost_usage WHERE billing_scope = ANY($1::text[])",
                charges.scopes[charges.stored].unique().tolist(),
            )
            days = await days_writer.write_in(conn, records(load.frame))
    except UNAVAILABLE as exc:
        raise DatabaseUnavailableError(f"{type(exc).__name__}: {exc}") from exc
    finally:
        await database.close()
    return Stored(replaced, int(charges.stored.sum()), days)
