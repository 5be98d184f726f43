namespace HighPerfInference.NativeEngine.Interop;

/// <summary>
/// The entries of the ORT C API table (<c>OrtApi</c>, API version 29) that NativeEngine calls, read by index
/// as unmanaged function pointers. Entries appear in table order; each comment gives the index and the C
/// signature. Opaque ORT pointers are <c>nint</c>, <c>const char*</c> is <c>byte*</c> (UTF-8, NUL-terminated),
/// <c>size_t</c> is <c>nuint</c>, C enums are <c>int</c>. Every entry returning <c>OrtStatus*</c> (as <c>nint</c>,
/// NULL on success) is called through <see cref="OrtStatus.Check"/>.
/// The fields are static readonly, so the JIT turns each call into a direct call once the table is loaded.
/// </summary>
internal static unsafe class OrtApi
{
    private static nint Entry(int index) => OrtLibrary.Table[index];

    // [1] OrtErrorCode GetErrorCode(const OrtStatus* status)
    public static readonly delegate* unmanaged<nint, int> GetErrorCode = (delegate* unmanaged<nint, int>)Entry(1);

    // [2] const char* GetErrorMessage(const OrtStatus* status)
    public static readonly delegate* unmanaged<nint, byte*> GetErrorMessage = (delegate* unmanaged<nint, byte*>)Entry(2);

    // [4] OrtStatus* CreateEnvWithCustomLogger(OrtLoggingFunction logging_function, void* logger_param, OrtLoggingLevel log_severity_level, const char* logid, OrtEnv** out)
    //     OrtLoggingFunction = void (*)(void* param, OrtLoggingLevel severity, const char* category, const char* logid, const char* code_location, const char* message)
    public static readonly delegate* unmanaged<delegate* unmanaged<nint, int, byte*, byte*, byte*, byte*, void>, nint, int, byte*, nint*, nint> CreateEnvWithCustomLogger =
        (delegate* unmanaged<delegate* unmanaged<nint, int, byte*, byte*, byte*, byte*, void>, nint, int, byte*, nint*, nint>)Entry(4);

    // [7] OrtStatus* CreateSession(const OrtEnv* env, const ORTCHAR_T* model_path, const OrtSessionOptions* options, OrtSession** out)
    public static readonly delegate* unmanaged<nint, byte*, nint, nint*, nint> CreateSession = (delegate* unmanaged<nint, byte*, nint, nint*, nint>)Entry(7);

    // [8] OrtStatus* CreateSessionFromArray(const OrtEnv* env, const void* model_data, size_t model_data_length, const OrtSessionOptions* options, OrtSession** out)
    public static readonly delegate* unmanaged<nint, byte*, nuint, nint, nint*, nint> CreateSessionFromArray = (delegate* unmanaged<nint, byte*, nuint, nint, nint*, nint>)Entry(8);

    // [9] OrtStatus* Run(OrtSession* session, const OrtRunOptions* run_options, const char* const* input_names, const OrtValue* const* inputs, size_t input_len,
    //                    const char* const* output_names, size_t output_names_len, OrtValue** outputs)
    public static readonly delegate* unmanaged<nint, nint, byte**, nint*, nuint, byte**, nuint, nint*, nint> Run =
        (delegate* unmanaged<nint, nint, byte**, nint*, nuint, byte**, nuint, nint*, nint>)Entry(9);

    // [10] OrtStatus* CreateSessionOptions(OrtSessionOptions** options)
    public static readonly delegate* unmanaged<nint*, nint> CreateSessionOptions = (delegate* unmanaged<nint*, nint>)Entry(10);

    // [11] OrtStatus* SetOptimizedModelFilePath(OrtSessionOptions* options, const ORTCHAR_T* optimized_model_filepath)
    public static readonly delegate* unmanaged<nint, byte*, nint> SetOptimizedModelFilePath = (delegate* unmanaged<nint, byte*, nint>)Entry(11);

    // [13] OrtStatus* SetSessionExecutionMode(OrtSessionOptions* options, ExecutionMode execution_mode)
    public static readonly delegate* unmanaged<nint, int, nint> SetSessionExecutionMode = (delegate* unmanaged<nint, int, nint>)Entry(13);

    // [16] OrtStatus* EnableMemPattern(OrtSessionOptions* options)
    public static readonly delegate* unmanaged<nint, nint> EnableMemPattern = (delegate* unmanaged<nint, nint>)Entry(16);

    // [17] OrtStatus* DisableMemPattern(OrtSessionOptions* options)
    public static readonly delegate* unmanaged<nint, nint> DisableMemPattern = (delegate* unmanaged<nint, nint>)Entry(17);

    // [18] OrtStatus* EnableCpuMemArena(OrtSessionOptions* options)
    public static readonly delegate* unmanaged<nint, nint> EnableCpuMemArena = (delegate* unmanaged<nint, nint>)Entry(18);

    // [19] OrtStatus* DisableCpuMemArena(OrtSessionOptions* options)
    public static readonly delegate* unmanaged<nint, nint> DisableCpuMemArena = (delegate* unmanaged<nint, nint>)Entry(19);

    // [20] OrtStatus* SetSessionLogId(OrtSessionOptions* options, const char* logid)
    public static readonly delegate* unmanaged<nint, byte*, nint> SetSessionLogId = (delegate* unmanaged<nint, byte*, nint>)Entry(20);

    // [23] OrtStatus* SetSessionGraphOptimizationLevel(OrtSessionOptions* options, GraphOptimizationLevel graph_optimization_level)
    public static readonly delegate* unmanaged<nint, int, nint> SetSessionGraphOptimizationLevel = (delegate* unmanaged<nint, int, nint>)Entry(23);

    // [24] OrtStatus* SetIntraOpNumThreads(OrtSessionOptions* options, int intra_op_num_threads)
    public static readonly delegate* unmanaged<nint, int, nint> SetIntraOpNumThreads = (delegate* unmanaged<nint, int, nint>)Entry(24);

    // [25] OrtStatus* SetInterOpNumThreads(OrtSessionOptions* options, int inter_op_num_threads)
    public static readonly delegate* unmanaged<nint, int, nint> SetInterOpNumThreads = (delegate* unmanaged<nint, int, nint>)Entry(25);

    // [30] OrtStatus* SessionGetInputCount(const OrtSession* session, size_t* out)
    public static readonly delegate* unmanaged<nint, nuint*, nint> SessionGetInputCount = (delegate* unmanaged<nint, nuint*, nint>)Entry(30);

    // [31] OrtStatus* SessionGetOutputCount(const OrtSession* session, size_t* out)
    public static readonly delegate* unmanaged<nint, nuint*, nint> SessionGetOutputCount = (delegate* unmanaged<nint, nuint*, nint>)Entry(31);

    // [33] OrtStatus* SessionGetInputTypeInfo(const OrtSession* session, size_t index, OrtTypeInfo** type_info)
    public static readonly delegate* unmanaged<nint, nuint, nint*, nint> SessionGetInputTypeInfo = (delegate* unmanaged<nint, nuint, nint*, nint>)Entry(33);

    // [34] OrtStatus* SessionGetOutputTypeInfo(const OrtSession* session, size_t index, OrtTypeInfo** type_info)
    public static readonly delegate* unmanaged<nint, nuint, nint*, nint> SessionGetOutputTypeInfo = (delegate* unmanaged<nint, nuint, nint*, nint>)Entry(34);

    // [36] OrtStatus* SessionGetInputName(const OrtSession* session, size_t index, OrtAllocator* allocator, char** value)
    public static readonly delegate* unmanaged<nint, nuint, nint, byte**, nint> SessionGetInputName = (delegate* unmanaged<nint, nuint, nint, byte**, nint>)Entry(36);

    // [37] OrtStatus* SessionGetOutputName(const OrtSession* session, size_t index, OrtAllocator* allocator, char** value)
    public static readonly delegate* unmanaged<nint, nuint, nint, byte**, nint> SessionGetOutputName = (delegate* unmanaged<nint, nuint, nint, byte**, nint>)Entry(37);

    // [39] OrtStatus* CreateRunOptions(OrtRunOptions** out)
    public static readonly delegate* unmanaged<nint*, nint> CreateRunOptions = (delegate* unmanaged<nint*, nint>)Entry(39);

    // [42] OrtStatus* RunOptionsSetRunTag(OrtRunOptions* options, const char* run_tag)
    public static readonly delegate* unmanaged<nint, byte*, nint> RunOptionsSetRunTag = (delegate* unmanaged<nint, byte*, nint>)Entry(42);

    // [45] OrtStatus* RunOptionsGetRunTag(const OrtRunOptions* options, const char** run_tag)
    public static readonly delegate* unmanaged<nint, byte**, nint> RunOptionsGetRunTag = (delegate* unmanaged<nint, byte**, nint>)Entry(45);

    // [46] OrtStatus* RunOptionsSetTerminate(OrtRunOptions* options)
    public static readonly delegate* unmanaged<nint, nint> RunOptionsSetTerminate = (delegate* unmanaged<nint, nint>)Entry(46);

    // [47] OrtStatus* RunOptionsUnsetTerminate(OrtRunOptions* options)
    public static readonly delegate* unmanaged<nint, nint> RunOptionsUnsetTerminate = (delegate* unmanaged<nint, nint>)Entry(47);

    // [48] OrtStatus* CreateTensorAsOrtValue(OrtAllocator* allocator, const int64_t* shape, size_t shape_len, ONNXTensorElementDataType type, OrtValue** out)
    public static readonly delegate* unmanaged<nint, long*, nuint, int, nint*, nint> CreateTensorAsOrtValue = (delegate* unmanaged<nint, long*, nuint, int, nint*, nint>)Entry(48);

    // [49] OrtStatus* CreateTensorWithDataAsOrtValue(const OrtMemoryInfo* info, void* p_data, size_t p_data_len, const int64_t* shape, size_t shape_len,
    //                                               ONNXTensorElementDataType type, OrtValue** out)
    public static readonly delegate* unmanaged<nint, nint, nuint, long*, nuint, int, nint*, nint> CreateTensorWithDataAsOrtValue =
        (delegate* unmanaged<nint, nint, nuint, long*, nuint, int, nint*, nint>)Entry(49);

    // [51] OrtStatus* GetTensorMutableData(OrtValue* value, void** out)
    public static readonly delegate* unmanaged<nint, nint*, nint> GetTensorMutableData = (delegate* unmanaged<nint, nint*, nint>)Entry(51);

    // [53] OrtStatus* GetStringTensorDataLength(const OrtValue* value, size_t* len)
    public static readonly delegate* unmanaged<nint, nuint*, nint> GetStringTensorDataLength = (delegate* unmanaged<nint, nuint*, nint>)Entry(53);

    // [54] OrtStatus* GetStringTensorContent(const OrtValue* value, void* s, size_t s_len, size_t* offsets, size_t offsets_len)
    public static readonly delegate* unmanaged<nint, byte*, nuint, nuint*, nuint, nint> GetStringTensorContent = (delegate* unmanaged<nint, byte*, nuint, nuint*, nuint, nint>)Entry(54);

    // [55] OrtStatus* CastTypeInfoToTensorInfo(const OrtTypeInfo* type_info, const OrtTensorTypeAndShapeInfo** out)   (the result is owned by type_info)
    public static readonly delegate* unmanaged<nint, nint*, nint> CastTypeInfoToTensorInfo = (delegate* unmanaged<nint, nint*, nint>)Entry(55);

    // [56] OrtStatus* GetOnnxTypeFromTypeInfo(const OrtTypeInfo* type_info, ONNXType* out)
    public static readonly delegate* unmanaged<nint, int*, nint> GetOnnxTypeFromTypeInfo = (delegate* unmanaged<nint, int*, nint>)Entry(56);

    // [60] OrtStatus* GetTensorElementType(const OrtTensorTypeAndShapeInfo* info, ONNXTensorElementDataType* out)
    public static readonly delegate* unmanaged<nint, int*, nint> GetTensorElementType = (delegate* unmanaged<nint, int*, nint>)Entry(60);

    // [61] OrtStatus* GetDimensionsCount(const OrtTensorTypeAndShapeInfo* info, size_t* out)
    public static readonly delegate* unmanaged<nint, nuint*, nint> GetDimensionsCount = (delegate* unmanaged<nint, nuint*, nint>)Entry(61);

    // [62] OrtStatus* GetDimensions(const OrtTensorTypeAndShapeInfo* info, int64_t* dim_values, size_t dim_values_length)
    public static readonly delegate* unmanaged<nint, long*, nuint, nint> GetDimensions = (delegate* unmanaged<nint, long*, nuint, nint>)Entry(62);

    // [63] OrtStatus* GetSymbolicDimensions(const OrtTensorTypeAndShapeInfo* info, const char* dim_params[], size_t dim_params_length)   (strings owned by info)
    public static readonly delegate* unmanaged<nint, byte**, nuint, nint> GetSymbolicDimensions = (delegate* unmanaged<nint, byte**, nuint, nint>)Entry(63);

    // [67] OrtStatus* GetValueType(const OrtValue* value, ONNXType* out)
    public static readonly delegate* unmanaged<nint, int*, nint> GetValueType = (delegate* unmanaged<nint, int*, nint>)Entry(67);

    // [68] OrtStatus* CreateMemoryInfo(const char* name, OrtAllocatorType type, int id, OrtMemType mem_type, OrtMemoryInfo** out)
    public static readonly delegate* unmanaged<byte*, int, int, int, nint*, nint> CreateMemoryInfo = (delegate* unmanaged<byte*, int, int, int, nint*, nint>)Entry(68);

    // [69] OrtStatus* CreateCpuMemoryInfo(OrtAllocatorType type, OrtMemType mem_type, OrtMemoryInfo** out)
    public static readonly delegate* unmanaged<int, int, nint*, nint> CreateCpuMemoryInfo = (delegate* unmanaged<int, int, nint*, nint>)Entry(69);

    // [71] OrtStatus* MemoryInfoGetName(const OrtMemoryInfo* ptr, const char** out)   (string owned by the memory info)
    public static readonly delegate* unmanaged<nint, byte**, nint> MemoryInfoGetName = (delegate* unmanaged<nint, byte**, nint>)Entry(71);

    // [72] OrtStatus* MemoryInfoGetId(const OrtMemoryInfo* ptr, int* out)
    public static readonly delegate* unmanaged<nint, int*, nint> MemoryInfoGetId = (delegate* unmanaged<nint, int*, nint>)Entry(72);

    // [76] OrtStatus* AllocatorFree(OrtAllocator* ort_allocator, void* p)
    public static readonly delegate* unmanaged<nint, void*, nint> AllocatorFree = (delegate* unmanaged<nint, void*, nint>)Entry(76);

    // [78] OrtStatus* GetAllocatorWithDefaultOptions(OrtAllocator** out)   (never released)
    public static readonly delegate* unmanaged<nint*, nint> GetAllocatorWithDefaultOptions = (delegate* unmanaged<nint*, nint>)Entry(78);

    // [93] void ReleaseStatus(OrtStatus* input)
    public static readonly delegate* unmanaged<nint, void> ReleaseStatus = (delegate* unmanaged<nint, void>)Entry(93);

    // [94] void ReleaseMemoryInfo(OrtMemoryInfo* input)
    public static readonly delegate* unmanaged<nint, void> ReleaseMemoryInfo = (delegate* unmanaged<nint, void>)Entry(94);

    // [95] void ReleaseSession(OrtSession* input)
    public static readonly delegate* unmanaged<nint, void> ReleaseSession = (delegate* unmanaged<nint, void>)Entry(95);

    // [96] void ReleaseValue(OrtValue* input)
    public static readonly delegate* unmanaged<nint, void> ReleaseValue = (delegate* unmanaged<nint, void>)Entry(96);

    // [97] void ReleaseRunOptions(OrtRunOptions* input)
    public static readonly delegate* unmanaged<nint, void> ReleaseRunOptions = (delegate* unmanaged<nint, void>)Entry(97);

    // [98] void ReleaseTypeInfo(OrtTypeInfo* input)
    public static readonly delegate* unmanaged<nint, void> ReleaseTypeInfo = (delegate* unmanaged<nint, void>)Entry(98);

    // [100] void ReleaseSessionOptions(OrtSessionOptions* input)
    public static readonly delegate* unmanaged<nint, void> ReleaseSessionOptions = (delegate* unmanaged<nint, void>)Entry(100);

    // [111] OrtStatus* SessionGetModelMetadata(const OrtSession* session, OrtModelMetadata** out)
    public static readonly delegate* unmanaged<nint, nint*, nint> SessionGetModelMetadata = (delegate* unmanaged<nint, nint*, nint>)Entry(111);

    // [112] OrtStatus* ModelMetadataGetProducerName(const OrtModelMetadata* model_metadata, OrtAllocator* allocator, char** value)
    public static readonly delegate* unmanaged<nint, nint, byte**, nint> ModelMetadataGetProducerName = (delegate* unmanaged<nint, nint, byte**, nint>)Entry(112);

    // [113] OrtStatus* ModelMetadataGetGraphName(const OrtModelMetadata* model_metadata, OrtAllocator* allocator, char** value)
    public static readonly delegate* unmanaged<nint, nint, byte**, nint> ModelMetadataGetGraphName = (delegate* unmanaged<nint, nint, byte**, nint>)Entry(113);

    // [114] OrtStatus* ModelMetadataGetDomain(const OrtModelMetadata* model_metadata, OrtAllocator* allocator, char** value)
    public static readonly delegate* unmanaged<nint, nint, byte**, nint> ModelMetadataGetDomain = (delegate* unmanaged<nint, nint, byte**, nint>)Entry(114);

    // [115] OrtStatus* ModelMetadataGetDescription(const OrtModelMetadata* model_metadata, OrtAllocator* allocator, char** value)
    public static readonly delegate* unmanaged<nint, nint, byte**, nint> ModelMetadataGetDescription = (delegate* unmanaged<nint, nint, byte**, nint>)Entry(115);

    // [116] OrtStatus* ModelMetadataLookupCustomMetadataMap(const OrtModelMetadata* model_metadata, OrtAllocator* allocator, const char* key, char** value)
    public static readonly delegate* unmanaged<nint, nint, byte*, byte**, nint> ModelMetadataLookupCustomMetadataMap = (delegate* unmanaged<nint, nint, byte*, byte**, nint>)Entry(116);

    // [117] OrtStatus* ModelMetadataGetVersion(const OrtModelMetadata* model_metadata, int64_t* value)
    public static readonly delegate* unmanaged<nint, long*, nint> ModelMetadataGetVersion = (delegate* unmanaged<nint, long*, nint>)Entry(117);

    // [118] void ReleaseModelMetadata(OrtModelMetadata* input)
    public static readonly delegate* unmanaged<nint, void> ReleaseModelMetadata = (delegate* unmanaged<nint, void>)Entry(118);

    // [123] OrtStatus* ModelMetadataGetCustomMetadataMapKeys(const OrtModelMetadata* model_metadata, OrtAllocator* allocator, char*** keys, int64_t* num_keys)
    //       (each key and the array itself are freed with the allocator)
    public static readonly delegate* unmanaged<nint, nint, byte***, long*, nint> ModelMetadataGetCustomMetadataMapKeys = (delegate* unmanaged<nint, nint, byte***, long*, nint>)Entry(123);

    // [125] OrtStatus* GetAvailableProviders(char*** out_ptr, int* provider_length)
    public static readonly delegate* unmanaged<byte***, int*, nint> GetAvailableProviders = (delegate* unmanaged<byte***, int*, nint>)Entry(125);

    // [126] OrtStatus* ReleaseAvailableProviders(char** ptr, int providers_length)
    public static readonly delegate* unmanaged<byte**, int, nint> ReleaseAvailableProviders = (delegate* unmanaged<byte**, int, nint>)Entry(126);

    // [127] OrtStatus* GetStringTensorElementLength(const OrtValue* value, size_t index, size_t* out)
    public static readonly delegate* unmanaged<nint, nuint, nuint*, nint> GetStringTensorElementLength = (delegate* unmanaged<nint, nuint, nuint*, nint>)Entry(127);

    // [128] OrtStatus* GetStringTensorElement(const OrtValue* value, size_t s_len, size_t index, void* s)
    public static readonly delegate* unmanaged<nint, nuint, nuint, byte*, nint> GetStringTensorElement = (delegate* unmanaged<nint, nuint, nuint, byte*, nint>)Entry(128);

    // [130] OrtStatus* AddSessionConfigEntry(OrtSessionOptions* options, const char* config_key, const char* config_value)
    public static readonly delegate* unmanaged<nint, byte*, byte*, nint> AddSessionConfigEntry = (delegate* unmanaged<nint, byte*, byte*, nint>)Entry(130);

    // [133] OrtStatus* RunWithBinding(OrtSession* session, const OrtRunOptions* run_options, const OrtIoBinding* binding_ptr)
    public static readonly delegate* unmanaged<nint, nint, nint, nint> RunWithBinding = (delegate* unmanaged<nint, nint, nint, nint>)Entry(133);

    // [134] OrtStatus* CreateIoBinding(OrtSession* session, OrtIoBinding** out)
    public static readonly delegate* unmanaged<nint, nint*, nint> CreateIoBinding = (delegate* unmanaged<nint, nint*, nint>)Entry(134);

    // [135] void ReleaseIoBinding(OrtIoBinding* input)
    public static readonly delegate* unmanaged<nint, void> ReleaseIoBinding = (delegate* unmanaged<nint, void>)Entry(135);

    // [136] OrtStatus* BindInput(OrtIoBinding* binding_ptr, const char* name, const OrtValue* val_ptr)
    public static readonly delegate* unmanaged<nint, byte*, nint, nint> BindInput = (delegate* unmanaged<nint, byte*, nint, nint>)Entry(136);

    // [137] OrtStatus* BindOutput(OrtIoBinding* binding_ptr, const char* name, const OrtValue* val_ptr)
    public static readonly delegate* unmanaged<nint, byte*, nint, nint> BindOutput = (delegate* unmanaged<nint, byte*, nint, nint>)Entry(137);

    // [138] OrtStatus* BindOutputToDevice(OrtIoBinding* binding_ptr, const char* name, const OrtMemoryInfo* mem_info_ptr)
    public static readonly delegate* unmanaged<nint, byte*, nint, nint> BindOutputToDevice = (delegate* unmanaged<nint, byte*, nint, nint>)Entry(138);

    // [140] OrtStatus* GetBoundOutputValues(const OrtIoBinding* binding_ptr, OrtAllocator* allocator, OrtValue*** output, size_t* output_count)
    //       (the array is freed with the allocator, each value with ReleaseValue)
    public static readonly delegate* unmanaged<nint, nint, nint**, nuint*, nint> GetBoundOutputValues = (delegate* unmanaged<nint, nint, nint**, nuint*, nint>)Entry(140);

    // [141] void ClearBoundInputs(OrtIoBinding* binding_ptr)
    public static readonly delegate* unmanaged<nint, void> ClearBoundInputs = (delegate* unmanaged<nint, void>)Entry(141);

    // [142] void ClearBoundOutputs(OrtIoBinding* binding_ptr)
    public static readonly delegate* unmanaged<nint, void> ClearBoundOutputs = (delegate* unmanaged<nint, void>)Entry(142);

    // [158] OrtStatus* ModelMetadataGetGraphDescription(const OrtModelMetadata* model_metadata, OrtAllocator* allocator, char** value)
    public static readonly delegate* unmanaged<nint, nint, byte**, nint> ModelMetadataGetGraphDescription = (delegate* unmanaged<nint, nint, byte**, nint>)Entry(158);

    // [170] OrtStatus* SessionOptionsAppendExecutionProvider_TensorRT_V2(OrtSessionOptions* options, const OrtTensorRTProviderOptionsV2* tensorrt_options)
    public static readonly delegate* unmanaged<nint, nint, nint> SessionOptionsAppendExecutionProvider_TensorRT_V2 = (delegate* unmanaged<nint, nint, nint>)Entry(170);

    // [171] OrtStatus* CreateTensorRTProviderOptions(OrtTensorRTProviderOptionsV2** out)
    public static readonly delegate* unmanaged<nint*, nint> CreateTensorRTProviderOptions = (delegate* unmanaged<nint*, nint>)Entry(171);

    // [172] OrtStatus* UpdateTensorRTProviderOptions(OrtTensorRTProviderOptionsV2* tensorrt_options, const char* const* provider_options_keys,
    //                                                const char* const* provider_options_values, size_t num_keys)
    public static readonly delegate* unmanaged<nint, byte**, byte**, nuint, nint> UpdateTensorRTProviderOptions = (delegate* unmanaged<nint, byte**, byte**, nuint, nint>)Entry(172);

    // [174] void ReleaseTensorRTProviderOptions(OrtTensorRTProviderOptionsV2* input)
    public static readonly delegate* unmanaged<nint, void> ReleaseTensorRTProviderOptions = (delegate* unmanaged<nint, void>)Entry(174);

    // [202] OrtStatus* SynchronizeBoundInputs(OrtIoBinding* binding_ptr)
    public static readonly delegate* unmanaged<nint, nint> SynchronizeBoundInputs = (delegate* unmanaged<nint, nint>)Entry(202);

    // [203] OrtStatus* SynchronizeBoundOutputs(OrtIoBinding* binding_ptr)
    public static readonly delegate* unmanaged<nint, nint> SynchronizeBoundOutputs = (delegate* unmanaged<nint, nint>)Entry(203);

    // [204] OrtStatus* SessionOptionsAppendExecutionProvider_CUDA_V2(OrtSessionOptions* options, const OrtCUDAProviderOptionsV2* cuda_options)
    public static readonly delegate* unmanaged<nint, nint, nint> SessionOptionsAppendExecutionProvider_CUDA_V2 = (delegate* unmanaged<nint, nint, nint>)Entry(204);

    // [205] OrtStatus* CreateCUDAProviderOptions(OrtCUDAProviderOptionsV2** out)
    public static readonly delegate* unmanaged<nint*, nint> CreateCUDAProviderOptions = (delegate* unmanaged<nint*, nint>)Entry(205);

    // [206] OrtStatus* UpdateCUDAProviderOptions(OrtCUDAProviderOptionsV2* cuda_options, const char* const* provider_options_keys,
    //                                            const char* const* provider_options_values, size_t num_keys)
    public static readonly delegate* unmanaged<nint, byte**, byte**, nuint, nint> UpdateCUDAProviderOptions = (delegate* unmanaged<nint, byte**, byte**, nuint, nint>)Entry(206);

    // [208] void ReleaseCUDAProviderOptions(OrtCUDAProviderOptionsV2* input)
    public static readonly delegate* unmanaged<nint, void> ReleaseCUDAProviderOptions = (delegate* unmanaged<nint, void>)Entry(208);

    // [226] OrtStatus* UpdateEnvWithCustomLogLevel(OrtEnv* ort_env, OrtLoggingLevel log_severity_level)
    public static readonly delegate* unmanaged<nint, int, nint> UpdateEnvWithCustomLogLevel = (delegate* unmanaged<nint, int, nint>)Entry(226);

    // [252] OrtStatus* GetResizedStringTensorElementBuffer(OrtValue* value, size_t index, size_t length_in_bytes, char** buffer)
    //       (binary-safe: the element gets exactly length_in_bytes bytes, written through the returned buffer)
    public static readonly delegate* unmanaged<nint, nuint, nuint, byte**, nint> GetResizedStringTensorElementBuffer = (delegate* unmanaged<nint, nuint, nuint, byte**, nint>)Entry(252);

    // [261] OrtStatus* UpdateTensorRTProviderOptionsWithValue(OrtTensorRTProviderOptionsV2* tensorrt_options, const char* key, void* value)
    public static readonly delegate* unmanaged<nint, byte*, nint, nint> UpdateTensorRTProviderOptionsWithValue = (delegate* unmanaged<nint, byte*, nint, nint>)Entry(261);

    // [263] OrtStatus* UpdateCUDAProviderOptionsWithValue(OrtCUDAProviderOptionsV2* cuda_options, const char* key, void* value)
    public static readonly delegate* unmanaged<nint, byte*, nint, nint> UpdateCUDAProviderOptionsWithValue = (delegate* unmanaged<nint, byte*, nint, nint>)Entry(263);

    // [318] OrtStatus* GetTensorSizeInBytes(const OrtValue* ort_value, size_t* size)
    public static readonly delegate* unmanaged<nint, nuint*, nint> GetTensorSizeInBytes = (delegate* unmanaged<nint, nuint*, nint>)Entry(318);

    // [414] OrtStatus* GetTensorElementTypeAndShapeDataReference(const OrtValue* value, ONNXTensorElementDataType* elem_type, const int64_t** shape_data,
    //                                                            size_t* shape_data_count)   (the shape points into the value: no allocation)
    public static readonly delegate* unmanaged<nint, int*, long**, nuint*, nint> GetTensorElementTypeAndShapeDataReference =
        (delegate* unmanaged<nint, int*, long**, nuint*, nint>)Entry(414);
}
