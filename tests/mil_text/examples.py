"""Hand-written `model.mil` texts in coremlc's canonical layout, one per family of constructs.

ADD_MODEL is apple/coremltools' `add_model.mlmodelc/model.mil` as quoted in
docs/coreml-formats.md §5; the others are our own, written in the same layout.
"""

ADD_MODEL = '''\
program(1.0)
[buildInfo = dict<tensor<string, []>, tensor<string, []>>({{"coremlc-component-MIL", "3402.3.2"}, {"coremlc-version", "3402.4.1"}, {"coremltools-component-torch", "2.5.1"}, {"coremltools-source-dialect", "TorchScript"}, {"coremltools-version", "8.1"}})]
{
    func main<ios16>(tensor<fp16, [1, 10]> x, tensor<fp16, [1, 10]> y) {
            tensor<fp16, [1, 10]> var_3 = mul(x = x, y = y)[name = tensor<string, []>("op_3_cast_fp16")];
        } -> (var_3);
}
'''

# iOS 16 style: every scalar spelled tensor<T, []>, weights in BLOBFILEs, hex floats,
# variadic arguments, multi-result ops, nested tensor literals.
CONVNET_IOS16 = '''\
program(1.0)
[buildInfo = dict<tensor<string, []>, tensor<string, []>>({{"coremlc-component-MIL", "3304.5.2"}, {"coremlc-version", "3304.6.2"}, {"coremltools-component-torch", "2.2.0"}, {"coremltools-source-dialect", "TorchScript"}, {"coremltools-version", "7.2"}})]
{
    func main<ios16>(tensor<fp32, [1, 3, 224, 224]> image) {
            tensor<string, []> cast_0_dtype_0 = const()[name = tensor<string, []>("cast_0_dtype_0"), val = tensor<string, []>("fp16")];
            tensor<string, []> input_1_pad_type_0 = const()[name = tensor<string, []>("input_1_pad_type_0"), val = tensor<string, []>("custom")];
            tensor<int32, [4]> input_1_pad_0 = const()[name = tensor<string, []>("input_1_pad_0"), val = tensor<int32, [4]>([1, 1, 1, 1])];
            tensor<int32, [2]> input_1_strides_0 = const()[name = tensor<string, []>("input_1_strides_0"), val = tensor<int32, [2]>([2, 2])];
            tensor<int32, [2]> input_1_dilations_0 = const()[name = tensor<string, []>("input_1_dilations_0"), val = tensor<int32, [2]>([1, 1])];
            tensor<int32, []> input_1_groups_0 = const()[name = tensor<string, []>("input_1_groups_0"), val = tensor<int32, []>(1)];
            tensor<fp16, [32, 3, 3, 3]> conv1_weight_to_fp16 = const()[name = tensor<string, []>("conv1_weight_to_fp16"), val = tensor<fp16, [32, 3, 3, 3]>(BLOBFILE(path = tensor<string, []>("@model_path/weights/weight.bin"), offset = tensor<uint64, []>(64)))];
            tensor<fp16, [32]> conv1_bias_to_fp16 = const()[name = tensor<string, []>("conv1_bias_to_fp16"), val = tensor<fp16, [32]>(BLOBFILE(path = tensor<string, []>("@model_path/weights/weight.bin"), offset = tensor<uint64, []>(1856)))];
            tensor<fp16, [1, 3, 224, 224]> cast_0 = cast(dtype = cast_0_dtype_0, x = image)[name = tensor<string, []>("cast_0")];
            tensor<fp16, [1, 32, 112, 112]> input_1_cast_fp16 = conv(bias = conv1_bias_to_fp16, dilations = input_1_dilations_0, groups = input_1_groups_0, pad = input_1_pad_0, pad_type = input_1_pad_type_0, strides = input_1_strides_0, weight = conv1_weight_to_fp16, x = cast_0)[name = tensor<string, []>("input_1_cast_fp16")];
            tensor<fp16, []> var_12_to_fp16 = const()[name = tensor<string, []>("op_12_to_fp16"), val = tensor<fp16, []>(0x1.5p-17)];
            tensor<fp16, []> var_13_to_fp16 = const()[name = tensor<string, []>("op_13_to_fp16"), val = tensor<fp16, []>(-0x1.388p+13)];
            tensor<fp16, [1, 32, 112, 112]> input_3_cast_fp16 = clip(alpha = var_12_to_fp16, beta = var_13_to_fp16, x = input_1_cast_fp16)[name = tensor<string, []>("input_3_cast_fp16")];
            tensor<int32, [2]> split_0_split_sizes_0 = const()[name = tensor<string, []>("split_0_split_sizes_0"), val = tensor<int32, [2]>([16, 16])];
            tensor<int32, []> split_0_axis_0 = const()[name = tensor<string, []>("split_0_axis_0"), val = tensor<int32, []>(1)];
            tensor<fp16, [1, 16, 112, 112]> split_0_cast_fp16_0, tensor<fp16, [1, 16, 112, 112]> split_0_cast_fp16_1 = split(axis = split_0_axis_0, split_sizes = split_0_split_sizes_0, x = input_3_cast_fp16)[name = tensor<string, []>("split_0_cast_fp16")];
            tensor<int32, []> var_20 = const()[name = tensor<string, []>("op_20"), val = tensor<int32, []>(-1)];
            tensor<bool, []> concat_0_interleave_0 = const()[name = tensor<string, []>("concat_0_interleave_0"), val = tensor<bool, []>(false)];
            tensor<fp16, [1, 32, 112, 112]> concat_0_cast_fp16 = concat(axis = var_20, interleave = concat_0_interleave_0, values = (split_0_cast_fp16_1, split_0_cast_fp16_0))[name = tensor<string, []>("concat_0_cast_fp16")];
            tensor<int32, [2, 2]> pad_table = const()[name = tensor<string, []>("pad_table"), val = tensor<int32, [2, 2]>([[0, 1], [-2, 3]])];
            tensor<fp32, [3]> mean = const()[name = tensor<string, []>("mean"), val = tensor<fp32, [3]>([0.485, 0.456, 1e-05])];
            tensor<bool, [2]> keep_dims = const()[name = tensor<string, []>("keep_dims"), val = tensor<bool, [2]>([true, false])];
            tensor<string, []> cast_1_dtype_0 = const()[name = tensor<string, []>("cast_1_dtype_0"), val = tensor<string, []>("fp32")];
            tensor<fp32, [1, 32, 112, 112]> features = cast(dtype = cast_1_dtype_0, x = concat_0_cast_fp16)[name = tensor<string, []>("cast_1")];
        } -> (features);
}
'''

# program(1.3) / iOS 18 style: bare scalar types, stateful inputs, compressed weights passed
# inline to constexpr ops, ops without results, several functions, function attributes.
STATEFUL_IOS18 = '''\
program(1.3)
[buildInfo = dict<string, string>({{"coremlc-component-MIL", "3510.2.1"}, {"coremlc-version", "3505.4.1"}, {"coremltools-component-milinternal", ""}, {"coremltools-version", "9.0"}})]
{
    func main<ios18>(tensor<fp16, [1, 64]> x, state<tensor<fp16, [1, 1, 4, 64]>> k_cache) {
            tensor<fp16, [1, 1, 4, 64]> cached = read_state(input = k_cache)[name = string("read_k")];
            tensor<fp16, [64, 64]> w_q = constexpr_lut_to_dense(indices = tensor<uint4, [64, 64]>(BLOBFILE(path = string("@model_path/weights/weight.bin"), offset = uint64(64))), lut = tensor<fp16, [1, 1, 16, 1]>(BLOBFILE(path = string("@model_path/weights/weight.bin"), offset = uint64(2240))))[name = string("w_q")];
            tensor<fp16, [64, 64]> w_k = constexpr_blockwise_shift_scale(data = tensor<int8, [64, 64]>(BLOBFILE(path = string("@model_path/weights/weight.bin"), offset = uint64(2368))), scale = tensor<fp16, [64, 1]>(BLOBFILE(path = string("@model_path/weights/weight.bin"), offset = uint64(6528))))[name = string("w_k")];
            bool transpose_x = const()[name = string("transpose_x"), val = bool(false)];
            bool transpose_y = const()[name = string("transpose_y"), val = bool(true)];
            tensor<fp16, [1, 64]> q = matmul(transpose_x = transpose_x, transpose_y = transpose_y, x = x, y = w_q)[name = string("q")];
            fp16 q_scale = const()[name = string("q_scale"), val = fp16(0x1.47cp-7)];
            int32 axis = const()[name = string("axis"), val = int32(-1)];
            uint64 offset = const()[name = string("offset"), val = uint64(18446744073709551615)];
            string to_fp32 = const()[name = string("to_fp32"), val = string("fp32")];
            tensor<int32, [4]> begin = const()[name = string("begin"), val = tensor<int32, [4]>([0, 0, 3, 0])];
            tensor<fp16, [1, 1, 4, 64]> updated = slice_update(begin = begin, update = q, x = cached)[name = string("updated")];
            write_state(data = updated, input = k_cache)[name = string("write_k")];
            tensor<fp32, [1, 64]> y = cast(dtype = to_fp32, x = q)[name = string("cast_out")];
        } -> (y);
    func prefill<ios18>(tensor<fp16, [1, ?, 64]> tokens, state<tensor<fp16, [1, 1, 4, 64]>> k_cache) [FlexibleShapeInformation = tuple<tuple<string, dict<string, tensor<int32, [?]>>>, tuple<string, dict<string, list<tensor<int32, [2]>, ?>>>>((("DefaultShapes", {{"tokens", [1, 1, 64]}}), ("RangeDims", {{"tokens", [[1, 1], [1, 512], [64, 64]]}})))] {
            tensor<int32, [3]> shape = shape(x = tokens)[name = string("shape")];
        } -> (shape);
}
'''

# Control flow: cond with two blocks, while_loop whose blocks take inputs, a loop nested in a
# branch, list and tuple types, an op that takes a constant argument inline.
CONTROL_FLOW = '''\
program(1.0)
[buildInfo = dict<tensor<string, []>, tensor<string, []>>({{"coremlc-version", "3402.4.1"}})]
{
    func main<ios17>(tensor<fp32, [1, 8]> x, tensor<int32, []> n, tensor<bool, []> flag) {
            tensor<int32, []> zero = const()[name = tensor<string, []>("zero"), val = tensor<int32, []>(0)];
            tensor<fp32, [1, 8]> branch = cond(pred = flag)[name = tensor<string, []>("branch")] {
                    tensor<fp32, [1, 8]> pos = relu(x = x)[name = tensor<string, []>("pos")];
                } -> (pos) {
                    tensor<int32, []> i_0, tensor<fp32, [1, 8]> acc_0 = while_loop(loop_vars = (zero, x))[name = tensor<string, []>("loop")] (tensor<int32, []> i_x, tensor<fp32, [1, 8]> acc_x) {
                            tensor<bool, []> more = less(x = i_x, y = n)[name = tensor<string, []>("more")];
                        } -> (more) (tensor<int32, []> i_y, tensor<fp32, [1, 8]> acc_y) {
                            tensor<int32, []> i_next = add(x = i_y, y = tensor<int32, []>(1))[name = tensor<string, []>("i_next")];
                            tensor<fp32, [1, 8]> acc_next = mul(x = acc_y, y = tensor<fp32, []>(0x1p+1))[name = tensor<string, []>("acc_next")];
                        } -> (i_next, acc_next);
                } -> (acc_0);
            list<tensor<fp32, [1, 8]>, ?> empty = make_list(dtype = tensor<string, []>("fp32"), elem_shape = (tensor<int32, []>(1), tensor<int32, []>(8)), init_length = tensor<int32, []>(1))[name = tensor<string, []>("empty")];
            list<tensor<fp32, [1, 8]>, ?> filled = list_write(index = zero, ls = empty, value = branch)[name = tensor<string, []>("filled")];
            tensor<fp32, [1, 8]> first = list_read(index = zero, ls = filled)[name = tensor<string, []>("first")];
            tuple<tensor<fp32, [1, 8]>, tensor<int32, []>> pair = identity(x = ())[name = tensor<string, []>("pair")];
        } -> (first, branch);
}
'''

# Names and strings that look like keywords or need escapes; symbolic and unknown dims.
TRICKY = '''\
program(1.3)
{
    func main<ios18>(tensor<fp32, [batch, ?, 3]> int32, tensor<fp32, []> offset) {
            tensor<fp32, [batch, ?, 3]> BLOBFILE = add(x = int32, y = offset)[name = string("quote \\" backslash \\\\ newline \\n tab \\t bell \\x07 ünï ✓")];
            fp64 inf = const()[name = string(""), val = fp64(-inf)];
            fp32 true = const()[name = string("nan"), val = fp32(nan)];
            dict<int64, fp32> table = const()[name = string("table"), val = dict<int64, fp32>({{1, 0.5}, {-2, 1e+10}})];
            dict<string, fp32> nothing = const()[name = string("nothing"), val = dict<string, fp32>({})];
            tensor<fp32, [0]> empty = const()[name = string("empty"), val = tensor<fp32, [0]>([])];
        } -> (BLOBFILE, inf);
}
'''

ALL = {"add_model": ADD_MODEL, "convnet_ios16": CONVNET_IOS16, "stateful_ios18": STATEFUL_IOS18,
       "control_flow": CONTROL_FLOW, "tricky": TRICKY}
