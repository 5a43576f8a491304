using System.Data.Common;

namespace Medic.Server.Runbooks;

/// <param name="Confirmed">The person starting the run confirmed its approval steps.</param>
/// <param name="InTransaction">Runs inside the transaction that records the run (an audit entry, the caller's own state).</param>
internal sealed record RunbookRunOptions(bool Confirmed = false, Func<DbConnection, DbTransaction, RunbookRunRow, Task>? InTransaction = null);
