namespace Headless.Discovery;

/// <summary>The keys registered with <c>AddHeadlessService</c>; one instance per service collection.</summary>
internal sealed class HeadlessServiceKeys
{
    private readonly List<string> _keys = [];
    private readonly object _lock = new();

    public IReadOnlyList<string> Snapshot()
    {
        lock (_lock)
        {
            return _keys.ToArray();
        }
    }

    public bool Contains(string key)
    {
        lock (_lock)
        {
            return _keys.Contains(key, StringComparer.Ordinal);
        }
    }

    public bool Add(string key)
    {
        lock (_lock)
        {
            if (_keys.Contains(key, StringComparer.Ordinal))
            {
                return false;
            }

            _keys.Add(key);
            return true;
        }
    }
}
