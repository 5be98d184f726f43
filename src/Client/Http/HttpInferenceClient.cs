using System.Buffers;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using HighPerfInference.Protocol;

namespace HighPerfInference.Client.Http;

/// <summary>Settings of an <see cref="HttpInferenceClient"/>.</summary>
public sealed record HttpInferenceClientOptions
{
    /// <summary>
    /// Tensors as raw bytes after the JSON (Triton's binary tensor extension) rather than as JSON
    /// "data" arrays. FP16, BF16 and BYTES inputs always go binary.
    /// </summary>
    public bool BinaryData { get; init; } = true;

    /// <summary>Default deadline of a call, retries included; <see cref="Timeout.InfiniteTimeSpan"/> for none.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(30);

    public RetryPolicy Retry { get; init; } = RetryPolicy.Default;
}

/// <summary>
/// Client of the server's REST API, the Open Inference Protocol (KServe V2), over
/// <see cref="HttpClient"/>: the same <see cref="InferRequest"/> and <see cref="InferResult"/> as the
/// binary client, for comparing the two front doors. Thread-safe.
/// </summary>
public sealed class HttpInferenceClient : IDisposable
{
    private const string HeaderLength = "Inference-Header-Content-Length";

    private readonly HttpClient _http;
    private readonly bool _ownsHttp;
    private readonly HttpInferenceClientOptions _options;

    /// <param name="baseAddress">The server, e.g. http://127.0.0.1:8000/.</param>
    /// <param name="options">Defaults when null.</param>
    public HttpInferenceClient(Uri baseAddress, HttpInferenceClientOptions? options = null)
        : this(new HttpClient(new SocketsHttpHandler { PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5) }) { BaseAddress = baseAddress, Timeout = System.Threading.Timeout.InfiniteTimeSpan }, options)
    {
        _ownsHttp = true;
    }

    /// <param name="http">A client whose <see cref="HttpClient.BaseAddress"/> is the server; it stays the caller's.</param>
    /// <param name="options">Defaults when null.</param>
    public HttpInferenceClient(HttpClient http, HttpInferenceClientOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(http.BaseAddress, nameof(http));
        _http = http;
        _options = options ?? new HttpInferenceClientOptions();
    }

    /// <summary>Runs an inference. Dispose the result when done with it.</summary>
    /// <exception cref="InferenceException">The server's error (its code from the HTTP status), after the retries the policy allows.</exception>
    public async Task<InferResult> InferAsync(InferRequest request, CancellationToken cancellationToken = default)
    {
        var deadline = new CallDeadline(_options.Timeout);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await InferOnceAsync(request, deadline.Left, cancellationToken).ConfigureAwait(false);
            }
            catch (InferenceException error) when (_options.Retry.TryGetBackoff(error.Code, attempt, deadline.Left, out var backoff))
            {
                await Task.Delay(backoff, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    public async Task<bool> IsServerLiveAsync(CancellationToken cancellationToken = default) =>
        await IsOkAsync("v2/health/live", cancellationToken).ConfigureAwait(false);

    public async Task<bool> IsServerReadyAsync(CancellationToken cancellationToken = default) =>
        await IsOkAsync("v2/health/ready", cancellationToken).ConfigureAwait(false);

    public async Task<bool> IsModelReadyAsync(string modelName, string? modelVersion = null, CancellationToken cancellationToken = default) =>
        await IsOkAsync(ModelPath(modelName, modelVersion) + "/ready", cancellationToken).ConfigureAwait(false);

    public async Task<ModelMetadata> GetModelMetadataAsync(string modelName, string? modelVersion = null, CancellationToken cancellationToken = default)
    {
        using var response = await _http.GetAsync(ModelPath(modelName, modelVersion), cancellationToken).ConfigureAwait(false);
        var body = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
        ThrowIfFailed(response.StatusCode, body);
        using var document = JsonDocument.Parse(body);
        var root = document.RootElement;
        return new ModelMetadata(
            root.GetProperty("name").GetString()!,
            [.. root.GetProperty("versions").EnumerateArray().Select(version => version.GetString()!)],
            root.GetProperty("platform").GetString()!,
            Tensors(root.GetProperty("inputs")),
            Tensors(root.GetProperty("outputs")));
    }

    private async Task<InferResult> InferOnceAsync(InferRequest request, TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (timeout == TimeSpan.Zero)
            throw new InferenceException(ErrorCode.Timeout, "The call's deadline passed before it could be sent.");
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        if (timeout != System.Threading.Timeout.InfiniteTimeSpan)
            deadline.CancelAfter(timeout);

        var (body, jsonLength, bodyLength) = WriteBody(request, timeout);
        try
        {
            using var content = new ByteArrayContent(body, 0, bodyLength);
            content.Headers.ContentType = new MediaTypeHeaderValue(jsonLength == bodyLength ? "application/json" : "application/octet-stream");
            if (jsonLength != bodyLength)
                content.Headers.Add(HeaderLength, jsonLength.ToString(CultureInfo.InvariantCulture));
            using var response = await _http.PostAsync(ModelPath(request.ModelName, request.ModelVersion) + "/infer", content, deadline.Token).ConfigureAwait(false);
            var answer = await response.Content.ReadAsByteArrayAsync(deadline.Token).ConfigureAwait(false);
            ThrowIfFailed(response.StatusCode, answer);
            var headerLength = response.Content.Headers.TryGetValues(HeaderLength, out var values) || response.Headers.TryGetValues(HeaderLength, out values)
                ? int.Parse(values.First(), CultureInfo.InvariantCulture)
                : answer.Length;
            return ReadResult(answer, headerLength);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new InferenceException(ErrorCode.Timeout, "The call got no answer within its timeout.");
        }
        catch (HttpRequestException error)
        {
            throw new InferenceException(ErrorCode.Unavailable, $"The server cannot be reached: {error.Message}");
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(body);
        }
    }

    /// <summary>The request body: the JSON header, then the binary inputs' bytes. Returns a pooled array.</summary>
    private (byte[] Body, int JsonLength, int BodyLength) WriteBody(InferRequest request, TimeSpan timeout)
    {
        var json = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(json))
        {
            writer.WriteStartObject();
            writer.WriteStartObject("parameters"u8);
            if (_options.BinaryData)
                writer.WriteBoolean("binary_data_output"u8, true);
            if (request.Priority != 0)
                writer.WriteNumber("priority"u8, request.Priority);
            if (timeout != System.Threading.Timeout.InfiniteTimeSpan)
                writer.WriteNumber("timeout"u8, (long)Math.Max(1, timeout.TotalMicroseconds));
            writer.WriteEndObject();
            writer.WriteStartArray("inputs"u8);
            foreach (var input in request.Inputs)
            {
                writer.WriteStartObject();
                writer.WriteString("name"u8, input.Name);
                writer.WriteString("datatype"u8, input.DataType.WireName());
                writer.WriteStartArray("shape"u8);
                foreach (var dim in input.Shape)
                    writer.WriteNumberValue(dim);
                writer.WriteEndArray();
                if (IsBinary(input))
                {
                    writer.WriteStartObject("parameters"u8);
                    writer.WriteNumber("binary_data_size"u8, input.ByteLength);
                    writer.WriteEndObject();
                }
                else
                {
                    writer.WritePropertyName("data"u8);
                    JsonTensorData.Write(writer, input.DataType, input.Data);
                }
                writer.WriteEndObject();
            }
            writer.WriteEndArray();
            if (request.RequestedOutputs.Count > 0)
            {
                writer.WriteStartArray("outputs"u8);
                foreach (var output in request.RequestedOutputs)
                {
                    writer.WriteStartObject();
                    writer.WriteString("name"u8, output);
                    writer.WriteEndObject();
                }
                writer.WriteEndArray();
            }
            writer.WriteEndObject();
        }

        var length = json.WrittenCount;
        foreach (var input in request.Inputs)
            length += IsBinary(input) ? input.ByteLength : 0;
        var body = ArrayPool<byte>.Shared.Rent(length);
        json.WrittenSpan.CopyTo(body);
        var at = json.WrittenCount;
        foreach (var input in request.Inputs)
        {
            if (!IsBinary(input))
                continue;
            input.Data.CopyTo(body.AsSpan(at));
            at += input.ByteLength;
        }
        return (body, json.WrittenCount, length);
    }

    private bool IsBinary(InferInput input) => _options.BinaryData || !JsonTensorData.HasJsonForm(input.DataType);

    /// <summary>
    /// Turns a V2 response (JSON header, then binary outputs) into the binary protocol's response
    /// layout, so that <see cref="InferResult"/> reads both clients' answers the same way.
    /// </summary>
    private static InferResult ReadResult(byte[] body, int headerLength)
    {
        using var document = JsonDocument.Parse(body.AsMemory(0, headerLength));
        var root = document.RootElement;
        var model = Encoding.UTF8.GetBytes(root.GetProperty("model_name").GetString() ?? "");
        var version = Encoding.UTF8.GetBytes(root.TryGetProperty("model_version", out var v) ? v.GetString() ?? "" : "");

        var outputs = new List<(byte[] Name, DataType Type, long[] Shape, ReadOnlyMemory<byte> Data)>();
        var binaryAt = headerLength;
        foreach (var output in root.GetProperty("outputs").EnumerateArray())
        {
            if (!DataTypes.TryParse(output.GetProperty("datatype").GetString() ?? "", out var type))
                throw new InferenceException(ErrorCode.Unsupported, $"The server sent an unknown datatype {output.GetProperty("datatype")}.");
            ReadOnlyMemory<byte> data;
            if (output.TryGetProperty("parameters", out var parameters) && parameters.TryGetProperty("binary_data_size", out var size))
            {
                data = body.AsMemory(binaryAt, size.GetInt32());
                binaryAt += size.GetInt32();
            }
            else
            {
                data = JsonTensorData.Read(type, output.GetProperty("data"));
            }
            outputs.Add((Encoding.UTF8.GetBytes(output.GetProperty("name").GetString()!), type,
                [.. output.GetProperty("shape").EnumerateArray().Select(dim => dim.GetInt64())], data));
        }

        var head = new InferResponseHead(model, version, 0, 0, outputs.Count);
        var length = InferLayout.Head(head);
        foreach (var output in outputs)
            length = InferLayout.AddTensor(length, output.Name.Length, output.Shape.Length, output.Data.Length);
        var frame = ArrayPool<byte>.Shared.Rent(FrameHeader.Size + (int)length);
        try
        {
            var writer = InferFrameWriter.BeginResponse(new FixedBufferWriter(frame), 0, head, length);
            foreach (var output in outputs)
                writer.WriteTensor(output.Name, output.Type, output.Shape, output.Data.Span);
            writer.Complete();
            return new InferResult(frame, FrameHeader.Size, (int)length);
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(frame);
            throw;
        }
    }

    private async Task<bool> IsOkAsync(string path, CancellationToken cancellationToken)
    {
        using var response = await _http.GetAsync(path, cancellationToken).ConfigureAwait(false);
        return response.StatusCode == HttpStatusCode.OK;
    }

    private static string ModelPath(string model, string? version) =>
        version is null ? $"v2/models/{Uri.EscapeDataString(model)}" : $"v2/models/{Uri.EscapeDataString(model)}/versions/{Uri.EscapeDataString(version)}";

    private static TensorMetadata[] Tensors(JsonElement tensors) =>
    [
        .. tensors.EnumerateArray().Select(tensor => new TensorMetadata(
            tensor.GetProperty("name").GetString()!,
            DataTypes.TryParse(tensor.GetProperty("datatype").GetString() ?? "", out var type) ? type : DataType.Invalid,
            [.. tensor.GetProperty("shape").EnumerateArray().Select(dim => dim.GetInt64())])),
    ];

    /// <summary>Throws the V2 error (<c>{"error": "..."}</c>) of a failed call, with the code its HTTP status stands for.</summary>
    private static void ThrowIfFailed(HttpStatusCode status, byte[] body)
    {
        if ((int)status is >= 200 and < 300)
            return;
        var message = $"HTTP {(int)status}";
        try
        {
            using var document = JsonDocument.Parse(body);
            if (document.RootElement.TryGetProperty("error", out var error))
                message = error.GetString() ?? message;
        }
        catch (JsonException)
        {
            // Not a V2 error body: the status alone tells.
        }
        throw new InferenceException(CodeOf(status), message);
    }

    /// <summary>The error code an HTTP status stands for (the inverse of <see cref="ErrorCodes.HttpStatus"/>).</summary>
    private static ErrorCode CodeOf(HttpStatusCode status) => (int)status switch
    {
        400 => ErrorCode.InvalidArgument,
        401 => ErrorCode.Unauthenticated,
        404 => ErrorCode.NotFound,
        413 => ErrorCode.PayloadTooLarge,
        429 => ErrorCode.Overloaded,
        499 => ErrorCode.Cancelled,
        501 => ErrorCode.Unsupported,
        503 => ErrorCode.Unavailable,
        504 => ErrorCode.Timeout,
        _ => ErrorCode.Internal,
    };

    public void Dispose()
    {
        if (_ownsHttp)
            _http.Dispose();
    }

    /// <summary>Writes into one array of the right size.</summary>
    private sealed class FixedBufferWriter(byte[] buffer) : IBufferWriter<byte>
    {
        private int _written;

        public void Advance(int count) => _written += count;

        public Memory<byte> GetMemory(int sizeHint = 0) => buffer.AsMemory(_written);

        public Span<byte> GetSpan(int sizeHint = 0) => buffer.AsSpan(_written);
    }
}
