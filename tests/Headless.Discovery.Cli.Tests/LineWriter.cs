using System.Text;

namespace Headless.Discovery.Cli.Tests;

/// <summary>
/// A thread-safe <see cref="TextWriter"/> that records complete lines and lets a test await a line matching a predicate
/// (the CLI writes from background loops; tests wait for output, never sleep).
/// </summary>
internal sealed class LineWriter : TextWriter
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);

    private readonly object _gate = new();
    private readonly StringBuilder _partial = new();
    private readonly List<string> _lines = [];
    private readonly List<Waiter> _waiters = [];

    public override Encoding Encoding => Encoding.UTF8;

    public IReadOnlyList<string> Lines
    {
        get
        {
            lock (_gate)
            {
                return _lines.ToArray();
            }
        }
    }

    public string Text
    {
        get
        {
            lock (_gate)
            {
                return string.Join('\n', _lines) + (_partial.Length > 0 ? "\n" + _partial : string.Empty);
            }
        }
    }

    public override void Write(char value)
    {
        lock (_gate)
        {
            if (value == '\n')
            {
                string line = _partial.ToString().TrimEnd('\r');
                _partial.Clear();
                _lines.Add(line);
                int index = _lines.Count - 1;
                for (int i = _waiters.Count - 1; i >= 0; i--)
                {
                    Waiter waiter = _waiters[i];
                    if (index >= waiter.FromIndex && waiter.Predicate(line))
                    {
                        _waiters.RemoveAt(i);
                        waiter.Completion.TrySetResult((index, line));
                    }
                }
            }
            else
            {
                _partial.Append(value);
            }
        }
    }

    public override void Write(string? value)
    {
        if (value is null)
        {
            return;
        }

        lock (_gate)
        {
            foreach (char c in value)
            {
                Write(c);
            }
        }
    }

    public override void Write(char[] buffer, int index, int count)
    {
        lock (_gate)
        {
            for (int i = 0; i < count; i++)
            {
                Write(buffer[index + i]);
            }
        }
    }

    /// <summary>Waits for the first line at or after <paramref name="fromIndex"/> that matches; fails with every line so far on timeout.</summary>
    public async Task<(int Index, string Line)> WaitForLineAsync(Func<string, bool> predicate, int fromIndex = 0, TimeSpan? timeout = null, string? what = null)
    {
        Task<(int, string)> task;
        lock (_gate)
        {
            for (int i = fromIndex; i < _lines.Count; i++)
            {
                if (predicate(_lines[i]))
                {
                    return (i, _lines[i]);
                }
            }

            var waiter = new Waiter(predicate, fromIndex, new TaskCompletionSource<(int, string)>(TaskCreationOptions.RunContinuationsAsynchronously));
            _waiters.Add(waiter);
            task = waiter.Completion.Task;
        }

        try
        {
            return await task.WaitAsync(timeout ?? DefaultTimeout);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"No line {(what is null ? "matching" : "with " + what)} from line {fromIndex} within {timeout ?? DefaultTimeout}. Output so far:\n{Text}");
        }
    }

    public Task<(int Index, string Line)> WaitForTextAsync(string text, int fromIndex = 0, TimeSpan? timeout = null) =>
        WaitForLineAsync(line => line.Contains(text, StringComparison.Ordinal), fromIndex, timeout, $"'{text}'");

    private sealed record Waiter(Func<string, bool> Predicate, int FromIndex, TaskCompletionSource<(int, string)> Completion);
}
