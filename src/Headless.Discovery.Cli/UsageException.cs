namespace Headless.Discovery.Cli;

/// <summary>Thrown by a command when its arguments are valid syntax but unusable; reported with exit code 64.</summary>
internal sealed class UsageException : Exception
{
    public UsageException()
    {
    }

    public UsageException(string message)
        : base(message)
    {
    }

    public UsageException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
