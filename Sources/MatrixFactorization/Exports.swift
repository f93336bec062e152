// The engine's public API uses the rating-data and matrix types directly (a model's factors are
// a `Matrix`, its id maps are `IDMap`s, training takes a `RatingSet`), so importing
// MatrixFactorization is enough. Only those modules' public types come along: their internals
// (BLAS and LAPACK wrappers, SIMD kernels, shared pointers, the thread pool) are `package`
// access and stay out of an app's namespace.
@_exported import LinearAlgebra
@_exported import RatingData
