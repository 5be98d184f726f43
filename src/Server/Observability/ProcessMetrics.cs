using System.Diagnostics;
using System.Globalization;
using Prometheus;

namespace HighPerfInference.Server.Observability;

/// <summary>
/// The standard process_* metrics (CPU seconds, memory, start time, open descriptors) and the runtime's own:
/// garbage collections, heap and allocation, thread pool; read at each scrape.
/// </summary>
internal sealed class ProcessMetrics : IScrapedMetrics
{
    private static readonly double s_startTimeSeconds = Process.GetCurrentProcess().StartTime.ToUniversalTime().Subtract(DateTime.UnixEpoch).TotalSeconds;

    private readonly Counter _cpuSeconds;
    private readonly Gauge _residentBytes;
    private readonly Gauge _virtualBytes;
    private readonly Gauge _openFds;
    private readonly Counter _collections;
    private readonly Gauge _heapBytes;
    private readonly Counter _allocatedBytes;
    private readonly Counter _pauseSeconds;
    private readonly Gauge _threads;
    private readonly Gauge _queuedItems;

    public ProcessMetrics(IMetricFactory metrics)
    {
        _cpuSeconds = metrics.CreateCounter("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.");
        _residentBytes = metrics.CreateGauge("process_resident_memory_bytes", "Resident memory size in bytes.");
        _virtualBytes = metrics.CreateGauge("process_virtual_memory_bytes", "Virtual memory size in bytes.");
        metrics.CreateGauge("process_start_time_seconds", "Start time of the process since unix epoch in seconds.").Set(s_startTimeSeconds);
        _openFds = metrics.CreateGauge("process_open_fds", "Number of open file descriptors.");
        _collections = metrics.CreateCounter("hpi_dotnet_gc_collections_total", "Garbage collections since the process started, by generation.",
            new CounterConfiguration { LabelNames = ["generation"] });
        _heapBytes = metrics.CreateGauge("hpi_dotnet_gc_heap_bytes", "Bytes the managed heap holds.");
        _allocatedBytes = metrics.CreateCounter("hpi_dotnet_allocated_bytes_total", "Managed bytes allocated since the process started.");
        _pauseSeconds = metrics.CreateCounter("hpi_dotnet_gc_pause_seconds_total", "Time the garbage collector paused the process, in seconds.");
        _threads = metrics.CreateGauge("hpi_dotnet_threadpool_threads", "Thread pool threads.");
        _queuedItems = metrics.CreateGauge("hpi_dotnet_threadpool_queued_items", "Work items queued to the thread pool and not yet started.");
    }

    public void Update()
    {
        using var process = Process.GetCurrentProcess();
        _cpuSeconds.IncTo(process.TotalProcessorTime.TotalSeconds);
        _residentBytes.Set(process.WorkingSet64);
        _virtualBytes.Set(process.VirtualMemorySize64);
        if (Directory.Exists("/proc/self/fd"))
            _openFds.Set(Directory.GetFiles("/proc/self/fd").Length);
        for (var generation = 0; generation <= GC.MaxGeneration; generation++)
            _collections.WithLabels(generation.ToString(CultureInfo.InvariantCulture)).IncTo(GC.CollectionCount(generation));
        _heapBytes.Set(GC.GetTotalMemory(forceFullCollection: false));
        _allocatedBytes.IncTo(GC.GetTotalAllocatedBytes());
        _pauseSeconds.IncTo(GC.GetTotalPauseDuration().TotalSeconds);
        _threads.Set(ThreadPool.ThreadCount);
        _queuedItems.Set(ThreadPool.PendingWorkItemCount);
    }
}
