using System.CommandLine;
using System.Globalization;
using System.Net;
using System.Threading.Channels;
using Headless.Discovery.Testing;

namespace Headless.Discovery.Cli;

/// <summary>
/// <c>headless-discovery demo</c>: a headless Service without a cluster. An embedded DNS server publishes a set of
/// real HTTP "pods" on loopback addresses; a scripted churn (scale up, replace a pod, scale down) is followed live by a
/// real <see cref="IHeadlessService"/>.
/// </summary>
internal static class DemoCommand
{
    public const string ServiceText = "headless-nginx.default.svc.cluster.local";

    private static readonly TimeSpan RecordTtl = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan MinRefresh = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan MaxRefresh = TimeSpan.FromMilliseconds(500);
    private static readonly TimeSpan StepTimeout = TimeSpan.FromSeconds(15);
    private static readonly TimeSpan HttpTimeout = TimeSpan.FromSeconds(3);
    private static readonly TimeSpan ProbeInterval = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan ProbeTimeout = TimeSpan.FromMilliseconds(500);

    public static Command Create(CliContext context)
    {
        var json = new Option<bool>("--json")
        {
            Description = "Write the observed changes as watch JSON lines on stdout; the narrative goes to stderr.",
        };
        var pace = DnsCommandOptions.DurationOption("--pace", "Pause between the scripted steps, so there is time to read. Default: 3s.", allowZero: true);
        var noHttp = new Option<bool>("--no-http")
        {
            Description = "Do not send one HTTP GET to each pod after each change.",
        };
        var command = new Command(
            "demo",
            "Show discovery without a cluster: an embedded DNS server serves " + ServiceText + " for real HTTP pods on 127.x "
            + "loopback addresses; the pods scale 3 -> 5, one is replaced, 2 remain, then one stops answering and comes back, while a HeadlessService "
            + "follows and probes each pod over HTTP. Takes about 15 s; ends by itself.");
        command.Options.Add(json);
        command.Options.Add(pace);
        command.Options.Add(noHttp);
        command.SetAction((parseResult, cancellationToken) => new DemoRun(
            context,
            parseResult.GetValue(json),
            parseResult.GetValue(pace) ?? TimeSpan.FromSeconds(3),
            !parseResult.GetValue(noHttp)).RunAsync(cancellationToken));
        return command;
    }

    private sealed class DemoRun(CliContext context, bool json, TimeSpan pace, bool http)
    {
        private readonly Channel<EndpointSetChange> _observed = Channel.CreateUnbounded<EndpointSetChange>(new UnboundedChannelOptions { SingleReader = true });
        private readonly TimeProvider _time = context.Services.TimeProvider;

        private ValueTask SayAsync(string line) => json ? context.InfoLineAsync(line) : context.WriteLineAsync(line);

        public async Task<int> RunAsync(CancellationToken cancellationToken)
        {
            long started = _time.GetTimestamp();
            try
            {
                await RunScriptAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                await SayAsync("Interrupted; stopping the pods and the DNS server.").ConfigureAwait(false);
                return ExitCodes.Ok;
            }
            catch (TimeoutException ex)
            {
                await context.ErrorLineAsync($"demo: {ex.Message}").ConfigureAwait(false);
                return ExitCodes.Error;
            }

            await SayAsync(string.Create(
                CultureInfo.InvariantCulture,
                $"Done in {_time.GetElapsedTime(started).TotalSeconds:0.0} s. In a cluster: headless-discovery watch headless-nginx (inside a pod), or --dns-server <CoreDNS IP>.")).ConfigureAwait(false);
            return ExitCodes.Ok;
        }

        private async Task RunScriptAsync(CancellationToken cancellationToken)
        {
            await SayAsync("headless-discovery demo: a Kubernetes headless Service, without Kubernetes.").ConfigureAwait(false);

            EmbeddedDnsServer dns = await EmbeddedDnsServer.StartAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
            await using (dns.ConfigureAwait(false))
            {
                await SayAsync($"  DNS:  an embedded DNS server on {dns.NameServer} plays CoreDNS: one A record per ready pod, TTL {DurationParser.Format(RecordTtl)}.").ConfigureAwait(false);

                LoopbackPodSet pods = await LoopbackPodSet.StartAsync(3, 0, "headless-nginx", cancellationToken).ConfigureAwait(false);
                await using (pods.ConfigureAwait(false))
                {
                    pods.SyncToDns(dns, ServiceText, RecordTtl);
                    await SayAsync($"  Pods: 3 tiny HTTP servers on loopback addresses, port {pods.Port} (real sockets, 127.x.y.z).").ConfigureAwait(false);
                    await SayAsync(
                        $"  Watching {ServiceText} with a HeadlessService (refresh every {DurationParser.Format(MinRefresh)}-{DurationParser.Format(MaxRefresh)}),").ConfigureAwait(false);
                    await SayAsync(
                        $"  probing each pod with GET / every {DurationParser.Format(ProbeInterval)} (timeout {DurationParser.Format(ProbeTimeout)}; 2 failures: unhealthy, 1 success: healthy again).").ConfigureAwait(false);
                    await SayAsync(string.Empty).ConfigureAwait(false);

                    await WatchScriptAsync(dns, pods, cancellationToken).ConfigureAwait(false);
                }
            }
        }

        private async Task WatchScriptAsync(EmbeddedDnsServer dns, LoopbackPodSet pods, CancellationToken cancellationToken)
        {
            var options = new HeadlessServiceOptions
            {
                Name = ServiceText + ".",
                Port = pods.Port,
                MinRefreshInterval = MinRefresh,
                MaxRefreshInterval = MaxRefresh,
                DnsAttemptTimeout = TimeSpan.FromSeconds(1),
                DnsRetryCount = 1,
                FailureBackoffBase = MinRefresh,
                FailureBackoffMax = MaxRefresh,
            };
            options.DnsServers.Add(dns.NameServer);
            options.ActiveHealth.Probe = "http:/";
            options.ActiveHealth.Interval = ProbeInterval;
            options.ActiveHealth.Timeout = ProbeTimeout;
            options.ActiveHealth.UnhealthyThreshold = 2;
            options.ActiveHealth.HealthyThreshold = 1;
            ServiceName service = ServiceName.Parse(ServiceText);
            IEndpointResolver resolver = context.Services.CreateResolver(options);
            try
            {
                IHeadlessService live = context.Services.CreateService(service, resolver, options);
                await using (live.ConfigureAwait(false))
                {
                    using var stopWatching = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                    Task watcher = WatchAsync(live, stopWatching.Token);
                    try
                    {
                        await PlayAsync(pods, watcher, cancellationToken).ConfigureAwait(false);
                    }
                    finally
                    {
                        await stopWatching.CancelAsync().ConfigureAwait(false);
                        try
                        {
                            await watcher.ConfigureAwait(false);
                        }
                        catch (OperationCanceledException)
                        {
                            // The watch ends with the script.
                        }
                    }
                }
            }
            finally
            {
                await ResolveCommand.DisposeAsync(resolver).ConfigureAwait(false);
            }
        }

        private async Task WatchAsync(IHeadlessService live, CancellationToken cancellationToken)
        {
            try
            {
                await WatchCommand.WatchAsync(context, live, json, includeService: false, cancellationToken, change => _observed.Writer.TryWrite(change)).ConfigureAwait(false);
            }
            finally
            {
                _observed.Writer.TryComplete();
            }
        }

        private async Task PlayAsync(LoopbackPodSet pods, Task watcher, CancellationToken cancellationToken)
        {
            long mark = _time.GetTimestamp();
            await ExpectAsync(pods, "its first answer", mark, cancellationToken).ConfigureAwait(false);
            await GetEachPodAsync(pods, cancellationToken).ConfigureAwait(false);

            await PauseAsync(cancellationToken).ConfigureAwait(false);
            await SayAsync("Step 1/4: scaling up to 5 pods (two new pods become ready, CoreDNS adds their A records)…").ConfigureAwait(false);
            mark = _time.GetTimestamp();
            await pods.ScaleAsync(5, cancellationToken).ConfigureAwait(false); // the set changes DNS itself, in one step
            await ExpectAsync(pods, "the scale-up", mark, cancellationToken).ConfigureAwait(false);
            await GetEachPodAsync(pods, cancellationToken).ConfigureAwait(false);

            await PauseAsync(cancellationToken).ConfigureAwait(false);
            LoopbackPod replaced = pods.Pods[1];
            await SayAsync($"Step 2/4: replacing pod {replaced.Name} ({replaced.Address}): it is deleted and comes back with a new IP…").ConfigureAwait(false);
            mark = _time.GetTimestamp();
            LoopbackPod replacement = await pods.ReplacePodAsync(replaced, cancellationToken).ConfigureAwait(false);
            await SayAsync($"  {replacement.Name} is back on {replacement.Address}.").ConfigureAwait(false);
            await ExpectAsync(pods, "the replacement", mark, cancellationToken).ConfigureAwait(false);
            await GetEachPodAsync(pods, cancellationToken).ConfigureAwait(false);

            await PauseAsync(cancellationToken).ConfigureAwait(false);
            await SayAsync("Step 3/4: scaling down to 2 pods (the three highest ordinals terminate)…").ConfigureAwait(false);
            mark = _time.GetTimestamp();
            await pods.ScaleAsync(2, cancellationToken).ConfigureAwait(false);
            await ExpectAsync(pods, "the scale-down", mark, cancellationToken).ConfigureAwait(false);
            await GetEachPodAsync(pods, cancellationToken).ConfigureAwait(false);

            await PauseAsync(cancellationToken).ConfigureAwait(false);
            LoopbackPod sick = pods.Pods[0];
            await SayAsync($"Step 4/4: pod {sick.Name} ({sick.Address}) stops answering: it accepts connections but never replies, so its probes time out…").ConfigureAwait(false);
            sick.Behavior = PodBehavior.Hang;
            mark = _time.GetTimestamp();
            await ExpectHealthAsync(sick, EndpointHealth.Unhealthy, "it turn unhealthy", mark, cancellationToken).ConfigureAwait(false);
            await PauseAsync(cancellationToken).ConfigureAwait(false);
            await SayAsync($"  {sick.Name} answers again…").ConfigureAwait(false);
            sick.Behavior = PodBehavior.Healthy;
            mark = _time.GetTimestamp();
            await ExpectHealthAsync(sick, EndpointHealth.Healthy, "it healthy again", mark, cancellationToken).ConfigureAwait(false);

            if (watcher.IsFaulted)
            {
                await watcher.ConfigureAwait(false);
            }
        }

        private async Task PauseAsync(CancellationToken cancellationToken)
        {
            if (pace > TimeSpan.Zero)
            {
                // A pause for the reader, not a wait for background work.
                await Task.Delay(pace, _time, cancellationToken).ConfigureAwait(false);
            }
        }

        /// <summary>Waits (bounded) until the watcher has printed a snapshot with exactly the running pods.</summary>
        private async Task ExpectAsync(LoopbackPodSet pods, string what, long since, CancellationToken cancellationToken)
        {
            HashSet<IPEndPoint> expected = pods.Pods.Where(p => p.IsRunning).Select(p => p.EndPoint).ToHashSet();
            using var timeout = new CancellationTokenSource(StepTimeout, _time);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
            try
            {
                while (await _observed.Reader.WaitToReadAsync(linked.Token).ConfigureAwait(false))
                {
                    while (_observed.Reader.TryRead(out EndpointSetChange? change))
                    {
                        EndpointSet current = change.Current;
                        if (current.StaleSince is null && current.Endpoints.Length == expected.Count && current.Endpoints.All(e => expected.Contains(e.EndPoint)))
                        {
                            await SayAsync(string.Create(
                                CultureInfo.InvariantCulture,
                                $"  -> the HeadlessService saw {what} {_time.GetElapsedTime(since).TotalMilliseconds:0} ms later: {TextOutput.Pods(current.Endpoints.Length)}, version {current.Version}.")).ConfigureAwait(false);
                            return;
                        }
                    }
                }
            }
            catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                // Reported below.
            }

            throw new TimeoutException($"the HeadlessService did not see {what} ({TextOutput.Pods(expected.Count)}) within {DurationParser.Format(StepTimeout)}.");
        }

        /// <summary>Waits (bounded) until the watcher has printed a snapshot where <paramref name="pod"/> has <paramref name="health"/>.</summary>
        private async Task ExpectHealthAsync(LoopbackPod pod, EndpointHealth health, string what, long since, CancellationToken cancellationToken)
        {
            using var timeout = new CancellationTokenSource(StepTimeout, _time);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
            try
            {
                while (await _observed.Reader.WaitToReadAsync(linked.Token).ConfigureAwait(false))
                {
                    while (_observed.Reader.TryRead(out EndpointSetChange? change))
                    {
                        EndpointStatus? status = change.Current.Statuses.FirstOrDefault(s => s.Endpoint.EndPoint.Equals(pod.EndPoint));
                        if (status?.Health == health)
                        {
                            string why = status.LastError is { } error ? $" ({error})" : string.Empty;
                            await SayAsync(string.Create(
                                CultureInfo.InvariantCulture,
                                $"  -> the HeadlessService saw {what} {_time.GetElapsedTime(since).TotalMilliseconds:0} ms later{why}: {change.Current.Available.Length} of {TextOutput.Pods(change.Current.Endpoints.Length)} available, version {change.Current.Version}.")).ConfigureAwait(false);
                            return;
                        }
                    }
                }
            }
            catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                // Reported below.
            }

            throw new TimeoutException($"the HeadlessService did not see {pod.Name} {TextOutput.Health(health)} within {DurationParser.Format(StepTimeout)}.");
        }

        private async Task GetEachPodAsync(LoopbackPodSet pods, CancellationToken cancellationToken)
        {
            if (!http)
            {
                return;
            }

            using var handler = new SocketsHttpHandler { UseProxy = false, ConnectTimeout = HttpTimeout };
            using var client = new HttpClient(handler) { Timeout = HttpTimeout };
            await SayAsync("  One HTTP GET to each pod, straight to its address:").ConfigureAwait(false);
            foreach (LoopbackPod pod in pods.Pods.Where(p => p.IsRunning))
            {
                var uri = new Uri($"http://{pod.Address}:{pod.Port}/");
                string answer;
                try
                {
                    using HttpResponseMessage response = await client.GetAsync(uri, cancellationToken).ConfigureAwait(false);
                    string name = response.Headers.TryGetValues("X-Pod-Name", out IEnumerable<string>? values) ? values.First() : "?";
                    answer = string.Create(CultureInfo.InvariantCulture, $"{(int)response.StatusCode} from {name}");
                }
                catch (HttpRequestException ex)
                {
                    answer = "failed: " + ex.Message;
                }
                catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    answer = "timed out";
                }

                await SayAsync($"    GET {uri} -> {answer}").ConfigureAwait(false);
            }

            await SayAsync(string.Empty).ConfigureAwait(false);
        }
    }
}
