"""passes/_matching.py's `sole_user`: the one op reading a value, else None. The fusion passes
absorb a producer into its sole user, so every other reader, a `func.return` included, and a
second read by the same op must make it None."""
from mlir_coreml.passes._matching import sole_user
from tests.passes.equivalence import main_function, parse

IR = """
module {
  func.func @f(%x: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>) {
    %once = core.relu %x : tensor<4xf32>
    %a = core.sigmoid %once : tensor<4xf32>
    %twice = core.relu %x : tensor<4xf32>
    %b = core.add %twice, %twice : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
    %returned = core.relu %x : tensor<4xf32>
    %c = core.add %returned, %a : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
    %unused = core.tanh %x : tensor<4xf32>
    %d = core.add %b, %c : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
    func.return %d, %returned : tensor<4xf32>, tensor<4xf32>
  }
}
"""


def values_by_name():
    fn = main_function(parse(IR))
    ops = list(fn.regions[0].block.ops)
    names = ["once", "a", "twice", "b", "returned", "c", "unused", "d"]
    return {name: op.results[0] for name, op in zip(names, ops)}, ops


def test_the_only_reader_is_the_sole_user():
    values, ops = values_by_name()
    assert sole_user(values["once"]) is ops[1]
    assert sole_user(values["c"]) is ops[7]
    assert sole_user(values["d"]) is ops[-1]  # read by the return alone: the return is its user


def test_no_sole_user_when_read_twice_returned_or_unread():
    values, _ = values_by_name()
    assert sole_user(values["twice"]) is None      # one op reading it twice
    assert sole_user(values["returned"]) is None   # an op and the function's result
    assert sole_user(values["unused"]) is None
