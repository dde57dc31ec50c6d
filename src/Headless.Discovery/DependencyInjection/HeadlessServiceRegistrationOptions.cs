namespace Headless.Discovery;

/// <summary>
/// How the dependency-injection container exposes and warms up one registered headless Service: the selector handed
/// out for it and whether host startup waits for endpoints. Bound from the same configuration section as the service's
/// <see cref="HeadlessServiceOptions"/> (<c>HeadlessDiscovery:Services:&lt;key&gt;</c>), so both sets of keys sit side by side.
/// </summary>
/// <remarks>Read once, when the service is first created; later configuration changes are not applied.</remarks>
public sealed class HeadlessServiceRegistrationOptions
{
    /// <summary>
    /// The selector that picks a pod for the service's HTTP client and for the keyed <c>IEndpointSelector</c> (<c>[FromKeyedServices("key")]</c>):
    /// <c>RoundRobin</c>, <c>Random</c>, <c>LeastRequest</c> or <c>LeastRequest:&lt;choices&gt;</c>
    /// (2 to 64 pods compared per pick, default 2: power of two choices), <c>PickFirst</c>,
    /// <c>Ordinal</c> or <c>Ordinal:&lt;n&gt;</c> (a StatefulSet ordinal, default 0, in whichever StatefulSet has it),
    /// <c>Ordinal:&lt;set&gt;:&lt;n&gt;</c> (pod <c>&lt;set&gt;-&lt;n&gt;</c>, e.g. <c>Ordinal:db:0</c>), <c>Subset:&lt;size&gt;</c> (this
    /// client's stable subset of that many pods, keyed by the machine name). Case-insensitive. Default: <c>RoundRobin</c>. (Consistent hashing needs a key per
    /// call: create it with <c>EndpointSelectors.ConsistentHash</c>.)
    /// </summary>
    public string Selector { get; set; } = "RoundRobin";

    /// <summary>
    /// The most outstanding leases one pod may hold through this service's selector (Envoy's per-host circuit breaking):
    /// a pod at the limit is skipped, and when every pod is, a lease fails naming the limit. Applies to the
    /// least-request selector (<c>LeastRequest</c>), which counts leases. 1 to 1 000 000;
    /// <see langword="null"/> (the default) for no limit.
    /// </summary>
    public int? MaxLeasesPerPod { get; set; }

    /// <summary>
    /// Slow start for pods that join later (keys <c>SlowStart:Window</c>, <c>SlowStart:Aggression</c>,
    /// <c>SlowStart:MinWeightPercent</c>), for the <c>RoundRobin</c>, <c>Random</c> and
    /// <c>LeastRequest</c> selectors; <see langword="null"/> (the default) for none.
    /// </summary>
    public SlowStartOptions? SlowStart { get; set; }

    /// <summary>
    /// How many endpoints host startup waits for before it goes on; 0 does not wait (the service still starts
    /// resolving with the host). 0 to 100 000. Default: 0.
    /// </summary>
    public int MinEndpoints { get; set; }

    /// <summary>
    /// The longest host startup waits for <see cref="MinEndpoints"/>. More than zero, at most one hour. Default: 30 seconds.
    /// </summary>
    public TimeSpan StartupTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// What happens when <see cref="MinEndpoints"/> are not resolved within <see cref="StartupTimeout"/>:
    /// <see langword="true"/> stops the host with an error naming the service; <see langword="false"/> logs a warning
    /// and lets startup go on (the service keeps resolving). Default: <see langword="true"/>.
    /// </summary>
    public bool FailOnStartupTimeout { get; set; } = true;

    /// <summary>Adds every problem of these options to <paramref name="problems"/>.</summary>
    internal void Collect(OptionProblems problems)
    {
        if (SelectorSpec.TryParse(Selector, out SelectorSpec spec) is { } selectorError)
        {
            problems.Add(nameof(Selector), $"'{Selector}': {selectorError}");
        }
        else if (SlowStart is not null && !spec.Ramps)
        {
            problems.Add(nameof(SlowStart), $"the {spec.Kind} selector does not ramp pods; slow start applies to RoundRobin, Random and LeastRequest.");
        }

        SlowStart?.Collect(problems.Under(nameof(SlowStart)));

        problems.Range(MinEndpoints, 0, 100_000, nameof(MinEndpoints));
        if (MaxLeasesPerPod is { } max)
        {
            problems.Range(max, 1, 1_000_000, nameof(MaxLeasesPerPod));
        }

        if (StartupTimeout <= TimeSpan.Zero || StartupTimeout > TimeSpan.FromHours(1))
        {
            problems.Add(nameof(StartupTimeout), $"{StartupTimeout} must be greater than zero and at most one hour.");
        }
    }
}
