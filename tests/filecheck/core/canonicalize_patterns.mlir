// RUN: mlir-coreml opt %s --split-input-file -p canonicalize | filecheck %s
// The converter noise canonicalize removes, one case per chunk.

// The rank-5 wrapper of a NeuralNetwork layer: the reshape moves above the elementwise chain
// and meets its partner; both disappear.
module {
  func.func @rank5_wrapper(%x: tensor<1x8x4x4xf32>) -> tensor<1x8x4x4xf32> {
    %a = core.reshape %x {shape = [1, 1, 8, 4, 4]} : (tensor<1x8x4x4xf32>) -> tensor<1x1x8x4x4xf32>
    %b = core.relu %a : tensor<1x1x8x4x4xf32>
    %c = core.sigmoid %b : tensor<1x1x8x4x4xf32>
    %d = core.reshape %c {shape = [1, 8, 4, 4]} : (tensor<1x1x8x4x4xf32>) -> tensor<1x8x4x4xf32>
    func.return %d : tensor<1x8x4x4xf32>
  }
}
// CHECK-LABEL: func.func @rank5_wrapper
// CHECK-NOT:     core.reshape
// CHECK:         core.relu %x : tensor<1x8x4x4xf32>
// CHECK-NEXT:    core.sigmoid
// CHECK-NOT:     core.reshape

// -----

// A residual add of two wrapped values, and a scalar operand, move with the reshape.
module {
  func.func @wrapped_add(%x: tensor<1x8x4x4xf32>, %y: tensor<1x8x4x4xf32>) -> tensor<1x8x4x4xf32> {
    %s = core.constant {value = dense<2.0> : tensor<f32>} : tensor<f32>
    %a = core.reshape %x {shape = [1, 1, 8, 4, 4]} : (tensor<1x8x4x4xf32>) -> tensor<1x1x8x4x4xf32>
    %b = core.reshape %y {shape = [1, 1, 8, 4, 4]} : (tensor<1x8x4x4xf32>) -> tensor<1x1x8x4x4xf32>
    %c = core.add %a, %b : (tensor<1x1x8x4x4xf32>, tensor<1x1x8x4x4xf32>) -> tensor<1x1x8x4x4xf32>
    %d = core.mul %c, %s : (tensor<1x1x8x4x4xf32>, tensor<f32>) -> tensor<1x1x8x4x4xf32>
    %e = core.reshape %d {shape = [1, 8, 4, 4]} : (tensor<1x1x8x4x4xf32>) -> tensor<1x8x4x4xf32>
    func.return %e : tensor<1x8x4x4xf32>
  }
}
// CHECK-LABEL: func.func @wrapped_add
// CHECK-NOT:     core.reshape
// CHECK:         core.add %x, %y : tensor<1x8x4x4xf32>
// CHECK-NEXT:    core.mul
// CHECK-NOT:     core.reshape

// -----

// A rank-3 residual add and layer norm as the NeuralNetwork converter wraps them at rank 4
// ([1, S, 1, D]), with a broadcast scale: each op lifts below the unit-dim reshape, the
// wrappers meet and cancel, and the layer norm normalises the remaining axis.
module {
  func.func @lifted_layer_norm(%x: tensor<1x6x8xf32>, %y: tensor<1x6x8xf32>) -> tensor<1x6x8xf32> {
    %g = core.constant {value = dense<[[[0.5, 1.0, 1.5, 2.0, -1.0, 0.0, 3.0, 1.0]]]> : tensor<1x1x8xf32>} : tensor<1x1x8xf32>
    %a = core.reshape %x {shape = [1, 6, 1, 8]} : (tensor<1x6x8xf32>) -> tensor<1x6x1x8xf32>
    %b = core.reshape %y {shape = [1, 6, 1, 8]} : (tensor<1x6x8xf32>) -> tensor<1x6x1x8xf32>
    %c = core.add %a, %b : tensor<1x6x1x8xf32>
    %n = core.layer_norm %c {axes = [-2, -1], operand_segments = [1, 0, 0]} : tensor<1x6x1x8xf32>
    %s = core.mul %n, %g : (tensor<1x6x1x8xf32>, tensor<1x1x8xf32>) -> tensor<1x6x1x8xf32>
    %t = core.add %s, %c : tensor<1x6x1x8xf32>
    %e = core.reshape %t {shape = [1, 6, 8]} : (tensor<1x6x1x8xf32>) -> tensor<1x6x8xf32>
    func.return %e : tensor<1x6x8xf32>
  }
}
// CHECK-LABEL: func.func @lifted_layer_norm
// CHECK-NOT:     core.reshape
// CHECK:         %[[C:.*]] = core.add %x, %y : tensor<1x6x8xf32>
// CHECK-NEXT:    %[[N:.*]] = core.layer_norm %[[C]] {axes = [2]{{.*}} : tensor<1x6x8xf32>
// CHECK-NEXT:    %[[S:.*]] = core.mul %[[N]], %g : (tensor<1x6x8xf32>, tensor<1x1x8xf32>) -> tensor<1x6x8xf32>
// CHECK-NEXT:    core.add %[[S]], %[[C]] : tensor<1x6x8xf32>
// CHECK-NOT:     core.reshape

// -----

// A broadcast operand whose dim sits where the wrapper inserted a unit dim cannot lift.
module {
  func.func @wrapper_kept(%x: tensor<1x6x8xf32>, %z: tensor<1x1x3x1xf32>) -> tensor<1x6x3x8xf32> {
    %a = core.reshape %x {shape = [1, 6, 1, 8]} : (tensor<1x6x8xf32>) -> tensor<1x6x1x8xf32>
    %c = core.add %a, %z : (tensor<1x6x1x8xf32>, tensor<1x1x3x1xf32>) -> tensor<1x6x3x8xf32>
    func.return %c : tensor<1x6x3x8xf32>
  }
}
// CHECK-LABEL: func.func @wrapper_kept
// CHECK:         core.reshape %x
// CHECK-NEXT:    core.add

// -----

// A rank-5 padding layer feeding a rank-4 convolution pads at rank 4.
module {
  func.func @wrapped_pad(%x: tensor<1x1x3x6x6xf32>) -> tensor<1x3x7x7xf32> {
    %p = core.pad %x {pads = [0, 0, 0, 0, 0, 0, 0, 1, 0, 1]} : (tensor<1x1x3x6x6xf32>) -> tensor<1x1x3x7x7xf32>
    %r = core.reshape %p {shape = [1, 3, 7, 7]} : (tensor<1x1x3x7x7xf32>) -> tensor<1x3x7x7xf32>
    func.return %r : tensor<1x3x7x7xf32>
  }
}
// CHECK-LABEL: func.func @wrapped_pad
// CHECK:         %[[R:.*]] = core.reshape %x {shape = [1, 3, 6, 6]}
// CHECK-NEXT:    core.pad %[[R]] {pads = [0, 0, 0, 0, 0, 1, 0, 1]{{.*}}-> tensor<1x3x7x7xf32>

// -----

// ReLU6 as converters spell it: relu, neg, max with -6, neg.
module {
  func.func @relu6_chain(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
    %m6 = core.constant {value = dense<-6.0> : tensor<f32>} : tensor<f32>
    %r = core.relu %x : tensor<2x3xf32>
    %n = core.linear_activation %r {alpha = -1.0, beta = 0.0} : tensor<2x3xf32>
    %c = core.max %n, %m6 : (tensor<2x3xf32>, tensor<f32>) -> tensor<2x3xf32>
    %y = core.linear_activation %c {alpha = -1.0, beta = 0.0} : tensor<2x3xf32>
    func.return %y : tensor<2x3xf32>
  }
}
// CHECK-LABEL: func.func @relu6_chain
// CHECK-NEXT:    %y = core.clip %x {alpha = 0.0, beta = 6.0} : tensor<2x3xf32>
// CHECK-NEXT:    func.return %y

// -----

// min(max(x, a), b) is a clip; max(x, 0) is a relu.
module {
  func.func @min_max(%x: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>) {
    %lo = core.constant {value = dense<-1.0> : tensor<f32>} : tensor<f32>
    %hi = core.constant {value = dense<3.0> : tensor<1xf32>} : tensor<1xf32>
    %zero = core.constant {value = dense<0.0> : tensor<f32>} : tensor<f32>
    %a = core.max %x, %lo : (tensor<4xf32>, tensor<f32>) -> tensor<4xf32>
    %b = core.min %hi, %a : (tensor<1xf32>, tensor<4xf32>) -> tensor<4xf32>
    %c = core.max %zero, %x : (tensor<f32>, tensor<4xf32>) -> tensor<4xf32>
    func.return %b, %c : tensor<4xf32>, tensor<4xf32>
  }
}
// CHECK-LABEL: func.func @min_max
// CHECK-DAG:     %b = core.clip %x {alpha = -1.0, beta = 3.0} : tensor<4xf32>
// CHECK-DAG:     %c = core.relu %x : tensor<4xf32>

// -----

// linear_activation pairs compose; alpha = -1 twice is the identity and disappears.
module {
  func.func @linear_pairs(%x: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>) {
    %a = core.linear_activation %x {alpha = -1.0, beta = 0.0} : tensor<4xf32>
    %b = core.linear_activation %a {alpha = -1.0, beta = 0.0} : tensor<4xf32>
    %c = core.linear_activation %x {alpha = 2.0, beta = 1.0} : tensor<4xf32>
    %d = core.linear_activation %c {alpha = 3.0, beta = -1.0} : tensor<4xf32>
    func.return %b, %d : tensor<4xf32>, tensor<4xf32>
  }
}
// CHECK-LABEL: func.func @linear_pairs
// CHECK-NEXT:    %d = core.linear_activation %x {alpha = 6.0, beta = 2.0} : tensor<4xf32>
// CHECK-NEXT:    func.return %x, %d

// -----

// Consecutive constant pads merge; no-op pads, slices, concats and casts fold away.
module {
  func.func @no_ops(%x: tensor<1x2x4x4xf32>) -> (tensor<1x2x7x7xf32>, tensor<1x2x4x4xf32>) {
    %p = core.pad %x {pads = [0, 0, 0, 0, 1, 0, 1, 0]} : (tensor<1x2x4x4xf32>) -> tensor<1x2x5x5xf32>
    %q = core.pad %p {pads = [0, 0, 0, 0, 0, 2, 0, 2]} : (tensor<1x2x5x5xf32>) -> tensor<1x2x7x7xf32>
    %z = core.pad %x {pads = [0, 0, 0, 0, 0, 0, 0, 0]} : (tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
    %s = core.slice %z {begin = [0, 0, 0, 0], end = [1, 2, 4, 4]} : (tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
    %c = core.concat %s {axis = 1} : (tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
    %k = core.cast %c {to = "f32"} : tensor<1x2x4x4xf32>
    func.return %q, %k : tensor<1x2x7x7xf32>, tensor<1x2x4x4xf32>
  }
}
// CHECK-LABEL: func.func @no_ops
// CHECK-NEXT:    %q = core.pad %x {pads = [0, 0, 0, 0, 1, 2, 1, 2]
// CHECK-NEXT:    func.return %q, %x

// -----

// Shape arithmetic on constants folds to a constant.
module {
  func.func @shape_arith(%x: tensor<2x3x4xf32>) -> tensor<2xi32> {
    %s = core.shape %x : (tensor<2x3x4xf32>) -> tensor<3xi32>
    %t = core.slice %s {begin = [1], end = [3]} : (tensor<3xi32>) -> tensor<2xi32>
    %two = core.constant {value = dense<2> : tensor<2xi32>} : tensor<2xi32>
    %m = core.mul %t, %two : (tensor<2xi32>, tensor<2xi32>) -> tensor<2xi32>
    func.return %m : tensor<2xi32>
  }
}
// CHECK-LABEL: func.func @shape_arith
// CHECK-NEXT:    %m = core.constant {value = dense<[6, 8]> : tensor<2xi32>} : tensor<2xi32>
// CHECK-NEXT:    func.return %m
