(function_declaration name: (identifier)) @def.function
(method_declaration name: (field_identifier)) @def.method
(type_spec name: (type_identifier)) @def.type
(type_alias name: (type_identifier)) @def.type
(method_elem name: (field_identifier)) @def.method

(call_expression
  function: [(identifier) @ref.call
             (selector_expression field: (field_identifier) @ref.call)
             (parenthesized_expression (identifier) @ref.call)])
(type_identifier) @ref.type
(argument_list (identifier) @ref.name)
(argument_list (selector_expression field: (field_identifier) @ref.name))
