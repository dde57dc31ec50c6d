using System.Text;

namespace Headless.Discovery.Cli;

/// <summary>Error text in the library's own words, shared by the text output and the <c>fanout --json</c> writer.</summary>
internal static class ErrorText
{
    /// <summary>
    /// An error's message followed by those of the errors it wraps that it does not already contain: the library's
    /// <see cref="EmptyAnswerException"/> wraps the resolver's reason, <see cref="HttpRequestException"/> the socket error.
    /// </summary>
    public static string Explain(Exception error)
    {
        var message = new StringBuilder(error.Message);
        for (Exception? inner = error.InnerException; inner is not null; inner = inner.InnerException)
        {
            if (!message.ToString().Contains(inner.Message, StringComparison.Ordinal))
            {
                message.Append(" (").Append(inner.Message).Append(')');
            }
        }

        return message.ToString();
    }
}
