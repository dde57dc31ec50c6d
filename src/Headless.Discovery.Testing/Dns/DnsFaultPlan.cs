namespace Headless.Discovery.Testing;

/// <summary>
/// The faults a test injected into the embedded server — a global one, one per name (taking precedence), each for a
/// number of queries or until cleared — and whether the server is paused. Not thread-safe: the server calls it under
/// its lock.
/// </summary>
internal sealed class DnsFaultPlan
{
    private readonly Dictionary<string, FaultRule> _byName = new(StringComparer.Ordinal);
    private FaultRule? _global;

    /// <summary>Whether every query is dropped (an outage).</summary>
    public bool Paused { get; set; }

    /// <summary>Replaces the fault for <paramref name="name"/> (every name when null); <see cref="DnsFault.None"/> removes it.</summary>
    public void Inject(DnsFault fault, string? name, int? count)
    {
        var rule = fault == DnsFault.None ? null : new FaultRule(fault, count);
        if (name is null)
        {
            _global = rule;
        }
        else if (rule is null)
        {
            _byName.Remove(name);
        }
        else
        {
            _byName[name] = rule;
        }
    }

    /// <summary>Removes every fault, global and per name (a pause stays).</summary>
    public void Clear()
    {
        _global = null;
        _byName.Clear();
    }

    /// <summary>
    /// The fault a query for <paramref name="name"/> over <paramref name="transport"/> gets, using one of a counted
    /// rule's queries. A truncation never applies over TCP (it is what a client falls back to).
    /// </summary>
    public DnsFault Take(string name, DnsTransport transport)
    {
        if (Paused)
        {
            return DnsFault.Drop;
        }

        var hasNameRule = _byName.TryGetValue(name, out var rule);
        rule = hasNameRule ? rule : _global;
        if (rule is null || (rule.Fault == DnsFault.Truncate && transport == DnsTransport.Tcp))
        {
            return DnsFault.None;
        }

        if (rule.Remaining is { } remaining)
        {
            if (remaining > 1)
            {
                rule.Remaining = remaining - 1;
            }
            else if (hasNameRule)
            {
                _byName.Remove(name);
            }
            else
            {
                _global = null;
            }
        }

        return rule.Fault;
    }

    private sealed class FaultRule(DnsFault fault, int? remaining)
    {
        public DnsFault Fault { get; } = fault;

        public int? Remaining { get; set; } = remaining;
    }
}
