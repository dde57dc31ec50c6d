using System.Runtime.CompilerServices;

namespace Headless.Discovery;

/// <summary>
/// One selector's slow start: remembers when each available pod began to ramp and builds, per snapshot, the
/// <see cref="RampTable"/> the pick path weighs pods with. Called under the selector's rebuild lock.
/// </summary>
internal sealed class SlowStart
{
    /// <summary>The start of a pod that takes a full share.</summary>
    internal const long FullWeight = long.MinValue;

    private readonly TimeProvider _clock;
    private readonly bool _coarse;
    private readonly long _window;
    private readonly double _exponent;
    private readonly double _minWeight;
    private Dictionary<PodEndpoint, long> _starts = [];
    private bool _sawPods;

    private SlowStart(SlowStartOptions options, TimeProvider clock)
    {
        _clock = clock;

        // On the system clock, the ramp reads Environment.TickCount64 (milliseconds, a few ns) rather than the
        // high-resolution timestamp (tens of ns on some VMs): windows are at least 100 ms long.
        _coarse = ReferenceEquals(clock, TimeProvider.System);
        _window = Math.Max(1, _coarse ? (long)options.Window.TotalMilliseconds : (long)(options.Window.TotalSeconds * clock.TimestampFrequency));
        _exponent = 1 / options.Aggression;
        _minWeight = options.MinWeightPercent / 100;
        Description = $"slow start {OptionProblems.Format(options.Window)}";
    }

    /// <summary><c>slow start 30 s</c>, for a selector's <c>ToString</c>.</summary>
    internal string Description { get; }

    /// <summary>The time now, in the unit of <see cref="_window"/>.</summary>
    internal long Now() => _coarse ? Environment.TickCount64 : _clock.GetTimestamp();

    /// <summary>The slow start <paramref name="options"/> ask for over <paramref name="service"/>, or <see langword="null"/> for none.</summary>
    /// <exception cref="InvalidOptionsException">An option is out of range (every one is named).</exception>
    internal static SlowStart? For(IHeadlessService service, SlowStartOptions? options)
    {
        if (options is null)
        {
            return null;
        }

        var problems = new OptionProblems().Under("SlowStart");
        options.Collect(problems);
        problems.ThrowIfAny("slowStart");
        return new SlowStart(options, service.TimeProvider);
    }

    /// <summary>
    /// The ramp over <paramref name="available"/>, or <see langword="null"/> when no pod ramps. A pod ramps from now
    /// when it was not available in the previous table, unless this is the first table with pods (startup).
    /// </summary>
    internal RampTable? Build(PodEndpoint[] available)
    {
        long now = Now();
        var next = new Dictionary<PodEndpoint, long>(available.Length);
        long[]? starts = null;
        for (int i = 0; i < available.Length; i++)
        {
            PodEndpoint pod = available[i];
            long start = _starts.TryGetValue(pod, out long known) ? known : _sawPods ? now : FullWeight;
            if (start != FullWeight && now - start >= _window)
            {
                start = FullWeight;
            }

            next[pod] = start;
            if (start != FullWeight)
            {
                starts ??= NewFullWeights(available.Length);
                starts[i] = start;
            }
        }

        _starts = next;
        _sawPods |= available.Length > 0;
        return starts is null ? null : new RampTable(this, starts);
    }

    /// <summary>The weight of a pod that began to ramp <paramref name="elapsed"/> timestamp units ago, in (0, 1].</summary>
    internal double Weight(long elapsed)
    {
        if (elapsed >= _window)
        {
            return 1;
        }

        double fraction = Math.Max(0, (double)elapsed / _window);
        double weight = _exponent == 1 ? fraction : Math.Pow(fraction, _exponent);
        return Math.Max(_minWeight, weight);
    }

    /// <summary>When a ramp that began at <paramref name="start"/> ends.</summary>
    internal long End(long start) => start + _window;

    private static long[] NewFullWeights(int length)
    {
        var starts = new long[length];
        Array.Fill(starts, FullWeight);
        return starts;
    }
}

/// <summary>
/// The weights of one snapshot's available pods while some of them ramp (see <see cref="SlowStart"/>). The pick path
/// reads the clock only while a ramp lasts; once the last one ends, one flag read says so.
/// </summary>
internal sealed class RampTable
{
    /// <summary>Draws a ramping selector makes by weight before it falls back to one exact weighted pass.</summary>
    internal const int Draws = 16;

    private readonly SlowStart _owner;
    private readonly long[] _starts;
    private readonly long _until;
    private readonly long _earliest;
    private readonly bool _allRamping;
    private volatile bool _done;

    internal RampTable(SlowStart owner, long[] starts)
    {
        _owner = owner;
        _starts = starts;
        _earliest = long.MaxValue;
        _allRamping = true;
        foreach (long start in starts)
        {
            if (start == SlowStart.FullWeight)
            {
                _allRamping = false;
                continue;
            }

            _earliest = Math.Min(_earliest, start);
            _until = Math.Max(_until, owner.End(start));
        }
    }

    /// <summary>Whether some pod still ramps, and if so the clock's reading.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal bool IsRamping(out long now)
    {
        if (_done)
        {
            now = 0;
            return false;
        }

        return Check(out now);
    }

    /// <summary>The weight of pod <paramref name="index"/> at <paramref name="now"/>, in (0, 1].</summary>
    internal double Weight(int index, long now)
    {
        long start = _starts[index];
        return start == SlowStart.FullWeight ? 1 : _owner.Weight(now - start);
    }

    /// <summary>
    /// Whether a uniform draw of pod <paramref name="index"/> stands (rejection sampling): with the probability of its
    /// weight over the largest weight, so that accepted draws fall on pods in proportion to their weights.
    /// </summary>
    internal bool Accept(int index, long now, FastRandom random)
    {
        long start = _starts[index];
        if (start == SlowStart.FullWeight)
        {
            return true;
        }

        double weight = _owner.Weight(now - start);
        double largest = _allRamping ? _owner.Weight(now - _earliest) : 1;
        return random.NextDouble() * largest < weight;
    }

    /// <summary>
    /// A pod drawn in proportion to the weights: candidates by <see cref="Accept"/> (the next of <paramref name="cursor"/>'s
    /// rotation, else uniform draws), then one exact pass.
    /// </summary>
    internal int Draw(long now, FastRandom random, RoundRobinCursor? cursor = null)
    {
        int n = _starts.Length;
        for (int attempt = 0; attempt < Draws; attempt++)
        {
            int i = cursor is null ? random.Next(n) : cursor.Next(n);
            if (Accept(i, now, random))
            {
                return i;
            }
        }

        return ExactDraw(now, random);
    }

    /// <summary>A pod drawn in proportion to the weights in one pass over all of them (when many draws were refused).</summary>
    private int ExactDraw(long now, FastRandom random)
    {
        double total = 0;
        for (int i = 0; i < _starts.Length; i++)
        {
            total += Weight(i, now);
        }

        double target = random.NextDouble() * total;
        for (int i = 0; i < _starts.Length; i++)
        {
            target -= Weight(i, now);
            if (target < 0)
            {
                return i;
            }
        }

        return _starts.Length - 1;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private bool Check(out long now)
    {
        now = _owner.Now();
        if (now - _until >= 0)
        {
            _done = true;
            return false;
        }

        return true;
    }
}
