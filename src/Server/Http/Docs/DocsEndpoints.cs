namespace HighPerfInference.Server.Http.Docs;

/// <summary>
/// The API's documentation, served from resources embedded in the server: the hand-written
/// OpenAPI document at /openapi.json and, at /docs, a self-contained page that lists every
/// operation with its examples and can send each one.
/// </summary>
public static class DocsEndpoints
{
    public static IEndpointRouteBuilder MapDocs(this IEndpointRouteBuilder routes)
    {
        var openApi = Resource("openapi.json");
        var page = Resource("docs.html");
        routes.MapGet("/openapi.json", context => WriteAsync(context, "application/json", openApi));
        routes.MapGet("/docs", context => WriteAsync(context, "text/html; charset=utf-8", page));
        return routes;
    }

    private static Task WriteAsync(HttpContext context, string contentType, byte[] content)
    {
        context.Response.ContentType = contentType;
        context.Response.ContentLength = content.Length;
        return context.Response.Body.WriteAsync(content, context.RequestAborted).AsTask();
    }

    private static byte[] Resource(string name)
    {
        using var stream = typeof(DocsEndpoints).Assembly.GetManifestResourceStream(typeof(DocsEndpoints).Namespace + "." + name)
            ?? throw new InvalidOperationException($"The embedded resource {name} is missing from the build.");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }
}
