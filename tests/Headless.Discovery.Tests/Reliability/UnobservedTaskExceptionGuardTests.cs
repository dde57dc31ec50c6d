using Headless.Discovery.TestSupport;

namespace Headless.Discovery.Tests.Reliability;

public sealed class UnobservedTaskExceptionGuardTests
{
    [Fact]
    public void The_guard_is_installed_and_records_unobserved_exceptions()
    {
        // Raise the event the way the finalizer thread would, without ending the process.
        bool failFast = UnobservedTaskExceptionGuard.FailFast;
        UnobservedTaskExceptionGuard.FailFast = false;
        try
        {
            int before = UnobservedTaskExceptionGuard.Exceptions.Count;
            var args = new UnobservedTaskExceptionEventArgs(new AggregateException(new InvalidOperationException("lost")));
            UnobservedTaskExceptionGuard.OnUnobserved(null, args);
            Assert.Equal(before + 1, UnobservedTaskExceptionGuard.Exceptions.Count);
        }
        finally
        {
            UnobservedTaskExceptionGuard.FailFast = failFast;
        }

        // A cancelled socket receive abandoned by DnsClient is counted, not failed on; any other exception is not.
        Assert.False(UnobservedTaskExceptionGuard.IsAbandonedSocketCancellation(new AggregateException(new InvalidOperationException("x"))));
        Assert.False(UnobservedTaskExceptionGuard.IsAbandonedSocketCancellation(new AggregateException(new OperationCanceledException())));

        // The guard is subscribed for real: a genuinely unobserved fault would reach OnUnobserved.
        var field = typeof(TaskScheduler).GetField("UnobservedTaskException", System.Reflection.BindingFlags.Static | System.Reflection.BindingFlags.NonPublic);
        var handlers = field?.GetValue(null) as EventHandler<UnobservedTaskExceptionEventArgs>;
        Assert.NotNull(handlers);
        Assert.Contains(handlers!.GetInvocationList(), d => d.Method.Name == nameof(UnobservedTaskExceptionGuard.OnUnobserved));
    }

    [Fact]
    public void A_recorder_takes_only_the_exceptions_it_claims_and_only_while_it_is_alive()
    {
        bool failFast = UnobservedTaskExceptionGuard.FailFast;
        UnobservedTaskExceptionGuard.FailFast = false;
        try
        {
            int before = UnobservedTaskExceptionGuard.Exceptions.Count;
            var claimed = new UnobservedTaskExceptionEventArgs(new AggregateException(new RecordedException()));
            var other = new UnobservedTaskExceptionEventArgs(new AggregateException(new RecordedException(), new InvalidOperationException("other")));
            UnobservedTaskExceptionRecorder recorder = UnobservedTaskExceptionGuard.Record(static e => e is RecordedException);
            using (recorder)
            {
                UnobservedTaskExceptionGuard.OnUnobserved(null, claimed);
                UnobservedTaskExceptionGuard.OnUnobserved(null, other);
            }

            UnobservedTaskExceptionGuard.OnUnobserved(null, new UnobservedTaskExceptionEventArgs(new AggregateException(new RecordedException())));

            Assert.True(claimed.Observed);
            Assert.IsType<RecordedException>(Assert.Single(recorder.Exceptions));
            // Not every inner exception was claimed, and the last one came after the recorder was disposed: the guard's.
            Assert.Equal(before + 2, UnobservedTaskExceptionGuard.Exceptions.Count);
        }
        finally
        {
            UnobservedTaskExceptionGuard.FailFast = failFast;
        }
    }

    private sealed class RecordedException : Exception;
}
