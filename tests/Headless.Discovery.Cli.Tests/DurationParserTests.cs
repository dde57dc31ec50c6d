namespace Headless.Discovery.Cli.Tests;

public class DurationParserTests
{
    [Theory]
    [InlineData("500ms", 500)]
    [InlineData("5s", 5000)]
    [InlineData("1.5s", 1500)]
    [InlineData("1m", 60_000)]
    [InlineData("2h", 7_200_000)]
    [InlineData("1m30s", 90_000)]
    [InlineData(" 250ms ", 250)]
    [InlineData("0s", 0)]
    [InlineData("00:00:05", 5000)]
    [InlineData("00:01:00.5", 60_500)]
    public void Parses(string text, double expectedMs)
    {
        Assert.True(DurationParser.TryParse(text, out TimeSpan value));
        Assert.Equal(TimeSpan.FromMilliseconds(expectedMs), value);
    }

    [Theory]
    [InlineData("")]
    [InlineData("5")]
    [InlineData("s")]
    [InlineData("5x")]
    [InlineData("-5s")]
    [InlineData("5 s")]
    [InlineData("1..5s")]
    [InlineData("-00:00:05")]
    [InlineData("ms")]
    public void Rejects(string text) => Assert.False(DurationParser.TryParse(text, out _));

    [Theory]
    [InlineData(500, "500ms")]
    [InlineData(5000, "5s")]
    [InlineData(1500, "1.5s")]
    [InlineData(120_000, "2m")]
    [InlineData(90_000, "90s")]
    public void FormatsWhatItParses(double ms, string expected)
    {
        string text = DurationParser.Format(TimeSpan.FromMilliseconds(ms));
        Assert.Equal(expected, text);
        Assert.True(DurationParser.TryParse(text, out TimeSpan back));
        Assert.Equal(TimeSpan.FromMilliseconds(ms), back);
    }
}
