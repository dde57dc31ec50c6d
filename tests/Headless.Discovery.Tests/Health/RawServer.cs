using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Headless.Discovery.Testing;

namespace Headless.Discovery.Tests.Health;

/// <summary>
/// A one-response-per-connection HTTP server on a loopback address for what LoopbackPod cannot do: a fixed raw response
/// (e.g. a redirect with a Location header) and TLS with a self-signed certificate, recording the request head and SNI.
/// </summary>
internal sealed class RawServer : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly string _response;
    private readonly X509Certificate2? _certificate;
    private readonly CancellationTokenSource _cts = new();
    private readonly Task _loop;

    private RawServer(string response, bool tls)
    {
        _response = response;
        _listener = new TcpListener(LoopbackAddressPool.Next(), 0);
        _listener.Start();
        if (tls)
        {
            using RSA key = RSA.Create(2048);
            var request = new CertificateRequest("CN=raw-server", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
            using X509Certificate2 ephemeral = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
            _certificate = X509CertificateLoader.LoadPkcs12(ephemeral.Export(X509ContentType.Pkcs12), null);
        }

        _loop = Task.Run(AcceptLoopAsync);
    }

    public IPEndPoint EndPoint => (IPEndPoint)_listener.LocalEndpoint;

    public TaskCompletionSource<string> RequestHead { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public TaskCompletionSource<string?> ServerName { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public int Connections => Volatile.Read(ref _connections);

    private int _connections;

    public static RawServer Start(string response, bool tls = false) => new(response, tls);

    private async Task AcceptLoopAsync()
    {
        for (int i = 0; i < 100 && !_cts.IsCancellationRequested; i++)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_cts.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            Interlocked.Increment(ref _connections);
            using (client)
            {
                try
                {
                    Stream stream = client.GetStream();
                    if (_certificate is not null)
                    {
                        var ssl = new SslStream(stream);
                        await ssl.AuthenticateAsServerAsync(
                            new SslServerAuthenticationOptions
                            {
                                ServerCertificateSelectionCallback = (_, name) =>
                                {
                                    ServerName.TrySetResult(name);
                                    return _certificate;
                                },
                            },
                            _cts.Token);
                        stream = ssl;
                    }

                    var head = new StringBuilder();
                    var buffer = new byte[4096];
                    while (!head.ToString().Contains("\r\n\r\n", StringComparison.Ordinal))
                    {
                        int read = await stream.ReadAsync(buffer, _cts.Token);
                        if (read == 0)
                        {
                            break;
                        }

                        head.Append(Encoding.ASCII.GetString(buffer, 0, read));
                    }

                    RequestHead.TrySetResult(head.ToString());
                    await stream.WriteAsync(Encoding.ASCII.GetBytes(_response), _cts.Token);
                    await stream.FlushAsync(_cts.Token);
                    await stream.DisposeAsync();
                }
                catch (Exception ex) when (ex is IOException or OperationCanceledException or SocketException or System.Security.Authentication.AuthenticationException)
                {
                    // The client went away.
                }
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _cts.CancelAsync();
        _listener.Stop();
        await _loop;
        _certificate?.Dispose();
        _cts.Dispose();
    }
}
