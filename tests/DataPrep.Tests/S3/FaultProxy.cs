using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace DataPrep.Tests.S3;

/// <summary>What the proxy does to one HTTP request.</summary>
public enum Fault
{
    None,
    /// <summary>Forward the head and half the body, then cut both connections.</summary>
    DropMidBody,
    /// <summary>Answer 503 SlowDown without forwarding.</summary>
    Status503,
    /// <summary>Answer 500 InternalError without forwarding.</summary>
    Status500,
    /// <summary>Wait a while, then forward.</summary>
    Delay,
    /// <summary>Never forward: the request hangs until the proxy is disposed (to kill a client mid-upload).</summary>
    Hold,
    /// <summary>Forward the request with the middle byte of its body inverted (a store or network that changes bytes).</summary>
    FlipByte,
}

/// <summary>
/// A fault-injecting HTTP/1.1 proxy between an S3 client and server on 127.0.0.1: it parses each request
/// head (request line, Content-Length), and per request may cut the connection mid-body, answer 500/503
/// itself, delay, or throttle bodies to a byte rate. It logs every request line (to count what was sent).
/// </summary>
public sealed class FaultProxy : IDisposable
{
    private readonly TcpListener _listener;
    private readonly int _target;
    private readonly Func<int, string, Fault> _plan;
    private readonly CancellationTokenSource _stop = new();
    private int _requests;

    /// <param name="targetPort">The server's port.</param>
    /// <param name="plan">The fault for request number n (0-based) with this request line.</param>
    /// <param name="bytesPerSecond">Throttle for request bodies (0: none).</param>
    public FaultProxy(int targetPort, Func<int, string, Fault>? plan = null, long bytesPerSecond = 0)
    {
        _target = targetPort;
        _plan = plan ?? ((_, _) => Fault.None);
        BytesPerSecond = bytesPerSecond;
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _ = Task.Run(AcceptLoopAsync);
    }

    public int Port { get; }
    public string Endpoint => $"http://127.0.0.1:{Port}";
    public long BytesPerSecond { get; set; }
    public ConcurrentQueue<string> RequestLines { get; } = new();
    /// <summary>Every request's line with its Range header's value (null without one), in arrival order.</summary>
    public ConcurrentQueue<(string Line, string? Range)> Requests { get; } = new();
    public ConcurrentQueue<Fault> Injected { get; } = new();
    /// <summary>How long a <see cref="Fault.Delay"/> holds its request (700 ms unless set).</summary>
    public TimeSpan DelayFor { get; set; } = TimeSpan.FromMilliseconds(700);
    /// <summary>The most requests held by <see cref="Fault.Delay"/> at the same time: how many the client sent at once.</summary>
    public int MostDelayedAtOnce => Volatile.Read(ref _mostDelayed);
    private int _delayed, _mostDelayed;

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try { client = await _listener.AcceptTcpClientAsync(_stop.Token); }
            catch (Exception) { return; }
            _ = Task.Run(() => HandleAsync(client));
        }
    }

    private async Task HandleAsync(TcpClient client)
    {
        using var c = client;
        using var server = new TcpClient();
        try
        {
            await server.ConnectAsync(IPAddress.Loopback, _target);
            var cs = c.GetStream();
            var ss = server.GetStream();
            var responses = Task.Run(async () =>
            {
                try { await ss.CopyToAsync(cs, _stop.Token); } catch (Exception) { }
                c.Close();
            });
            var buffer = new List<byte>();
            var one = new byte[1];
            while (true)
            {
                // Request head up to the blank line.
                buffer.Clear();
                while (!(buffer.Count >= 4 && buffer[^4] == '\r' && buffer[^3] == '\n' && buffer[^2] == '\r' && buffer[^1] == '\n'))
                {
                    int n = await cs.ReadAsync(one, _stop.Token);
                    if (n == 0) { server.Close(); return; }
                    buffer.Add(one[0]);
                }
                var head = Encoding.ASCII.GetString(buffer.ToArray());
                var requestLine = head[..head.IndexOf('\r')];
                long length = 0;
                string? range = null;
                foreach (var line in head.Split("\r\n"))
                {
                    if (line.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase)) length = long.Parse(line[15..].Trim(), System.Globalization.CultureInfo.InvariantCulture);
                    if (line.StartsWith("Range:", StringComparison.OrdinalIgnoreCase)) range = line[6..].Trim();
                }
                int number = Interlocked.Increment(ref _requests) - 1;
                var fault = _plan(number, requestLine);
                RequestLines.Enqueue(requestLine);
                Requests.Enqueue((requestLine, range));
                if (fault != Fault.None) Injected.Enqueue(fault);
                if (fault is Fault.Status503 or Fault.Status500)
                {
                    var (code, text, err) = fault == Fault.Status503 ? (503, "Service Unavailable", "SlowDown") : (500, "Internal Server Error", "InternalError");
                    var body = $"<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>{err}</Code><Message>injected by the test proxy</Message></Error>";
                    var response = $"HTTP/1.1 {code} {text}\r\nContent-Type: application/xml\r\nContent-Length: {body.Length}\r\nConnection: close\r\n\r\n{body}";
                    await cs.WriteAsync(Encoding.ASCII.GetBytes(response));
                    await cs.FlushAsync();
                    await Task.Delay(50);
                    server.Close();
                    c.Close();
                    return;
                }
                if (fault == Fault.Delay)
                {
                    int now = Interlocked.Increment(ref _delayed);
                    for (int most = _mostDelayed; now > most; most = _mostDelayed) Interlocked.CompareExchange(ref _mostDelayed, now, most);
                    await Task.Delay(DelayFor);
                    Interlocked.Decrement(ref _delayed);
                }
                if (fault == Fault.Hold) await Task.Delay(Timeout.Infinite, _stop.Token);
                await ss.WriteAsync(buffer.ToArray());
                long limit = fault == Fault.DropMidBody ? length / 2 : length;
                var chunk = new byte[64 << 10];
                long sent = 0;
                var clock = System.Diagnostics.Stopwatch.StartNew();
                while (sent < limit)
                {
                    int n = await cs.ReadAsync(chunk.AsMemory(0, (int)Math.Min(chunk.Length, limit - sent)), _stop.Token);
                    if (n == 0) { server.Close(); return; }
                    if (fault == Fault.FlipByte && sent <= length / 2 && length / 2 < sent + n) chunk[length / 2 - sent] ^= 0xFF;
                    await ss.WriteAsync(chunk.AsMemory(0, n));
                    sent += n;
                    if (BytesPerSecond > 0)
                    {
                        var due = TimeSpan.FromSeconds((double)sent / BytesPerSecond) - clock.Elapsed;
                        if (due > TimeSpan.Zero) await Task.Delay(due);
                    }
                }
                if (fault == Fault.DropMidBody)
                {
                    c.Client.LingerState = new LingerOption(true, 0);
                    server.Close();
                    c.Close();
                    return;
                }
            }
        }
        catch (Exception)
        {
            // A closed side ends the connection.
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
        _stop.Dispose();
    }
}
