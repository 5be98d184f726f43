using System.Diagnostics;

namespace HighPerfInference.Server.Observability;

/// <summary>
/// The standard process_* metrics (CPU seconds, memory, start time, open descriptors) and the
/// runtime's own: garbage collections, heap and allocation, thread pool.
/// </summary>
internal sealed class ProcessMetrics : IMetricsSource
{
    private static readonly double s_startTimeSeconds = Process.GetCurrentProcess().StartTime.ToUniversalTime().Subtract(DateTime.UnixEpoch).TotalSeconds;

    public void Write(PrometheusWriter writer)
    {
        using var process = Process.GetCurrentProcess();
        writer.Family("process_cpu_seconds_total", MetricType.Counter, "Total user and system CPU time spent in seconds.")
            .Sample("process_cpu_seconds_total", process.TotalProcessorTime.TotalSeconds);
        writer.Family("process_resident_memory_bytes", MetricType.Gauge, "Resident memory size in bytes.")
            .Sample("process_resident_memory_bytes", process.WorkingSet64);
        writer.Family("process_virtual_memory_bytes", MetricType.Gauge, "Virtual memory size in bytes.")
            .Sample("process_virtual_memory_bytes", process.VirtualMemorySize64);
        writer.Family("process_start_time_seconds", MetricType.Gauge, "Start time of the process since unix epoch in seconds.")
            .Sample("process_start_time_seconds", s_startTimeSeconds);
        if (Directory.Exists("/proc/self/fd"))
        {
            writer.Family("process_open_fds", MetricType.Gauge, "Number of open file descriptors.")
                .Sample("process_open_fds", Directory.GetFiles("/proc/self/fd").Length);
        }

        writer.Family("hpi_dotnet_gc_collections_total", MetricType.Counter, "Garbage collections since the process started, by generation.");
        for (var generation = 0; generation <= GC.MaxGeneration; generation++)
            writer.Sample("hpi_dotnet_gc_collections_total", [("generation", generation.ToString(System.Globalization.CultureInfo.InvariantCulture))], GC.CollectionCount(generation));
        writer.Family("hpi_dotnet_gc_heap_bytes", MetricType.Gauge, "Bytes the managed heap holds.")
            .Sample("hpi_dotnet_gc_heap_bytes", GC.GetTotalMemory(forceFullCollection: false));
        writer.Family("hpi_dotnet_allocated_bytes_total", MetricType.Counter, "Managed bytes allocated since the process started.")
            .Sample("hpi_dotnet_allocated_bytes_total", GC.GetTotalAllocatedBytes());
        writer.Family("hpi_dotnet_gc_pause_seconds_total", MetricType.Counter, "Time the garbage collector paused the process, in seconds.")
            .Sample("hpi_dotnet_gc_pause_seconds_total", GC.GetTotalPauseDuration().TotalSeconds);
        writer.Family("hpi_dotnet_threadpool_threads", MetricType.Gauge, "Thread pool threads.")
            .Sample("hpi_dotnet_threadpool_threads", ThreadPool.ThreadCount);
        writer.Family("hpi_dotnet_threadpool_queued_items", MetricType.Gauge, "Work items queued to the thread pool and not yet started.")
            .Sample("hpi_dotnet_threadpool_queued_items", ThreadPool.PendingWorkItemCount);
    }
}
