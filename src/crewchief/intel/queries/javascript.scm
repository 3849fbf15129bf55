; Shared by JavaScript and TypeScript.
(function_declaration name: (identifier)) @def.function
(generator_function_declaration name: (identifier)) @def.function
(class_declaration name: (_)) @def.class
(method_definition name: [(property_identifier) (private_property_identifier)]) @def.method
(variable_declarator
  name: (identifier)
  value: [(arrow_function) (function_expression) (generator_function)]) @def.function
(pair
  key: (property_identifier)
  value: [(arrow_function) (function_expression)]) @def.function

(call_expression
  function: [(identifier) @ref.call
             (member_expression property: (property_identifier) @ref.call)])
(new_expression
  constructor: [(identifier) @ref.call
                (member_expression property: (property_identifier) @ref.call)])
(import_specifier name: (identifier) @ref.import)
(arguments (identifier) @ref.name)
